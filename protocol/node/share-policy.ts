/**
 * Which remote repo peers may see which documents: the Repo's share
 * policy. A document is shared with a peer only if it belongs to a space
 * the peer proved membership of on some transport; it is offered unasked
 * only to peers that keep whole spaces. automerge-repo asks this for every
 * peer on every message, so each answer is a few map lookups.
 */
import type { PeerId, Repo } from "@automerge/automerge-repo";
import type { PeerAccess } from "../sync/peer-access.ts";

const YES = Promise.resolve(true);
const NO = Promise.resolve(false);

export class SharePolicy {
  /** The space each known space document belongs to. */
  readonly #docSpace = new Map<string, string>();
  /** Every transport that grants peers access to spaces. */
  readonly #access: PeerAccess[] = [];
  readonly #repo: () => Repo;
  readonly #stopped: () => boolean;
  #pending = false;

  constructor(options: { repo: () => Repo; stopped: () => boolean }) {
    this.#repo = options.repo;
    this.#stopped = options.stopped;
  }

  /** The Repo's `shareConfig`. */
  readonly shareConfig = {
    announce: (peer: PeerId, doc?: string): Promise<boolean> =>
      doc !== undefined && this.mayShare(peer, doc, true) ? YES : NO,
    access: (peer: PeerId, doc?: string): Promise<boolean> =>
      doc !== undefined && this.mayShare(peer, doc, false) ? YES : NO,
  };

  addAccess(access: PeerAccess): void {
    this.#access.push(access);
  }

  get access(): readonly PeerAccess[] {
    return this.#access;
  }

  /** Document `doc` belongs to space `space`. */
  registerDocument(doc: string, space: string): void {
    this.#docSpace.set(doc, space);
  }

  spaceOf(doc: string): string | undefined {
    return this.#docSpace.get(doc);
  }

  /**
   * The remote repo peer may see this document: it proved membership of the
   * document's space. `offer`: whether to send it unasked, which only peers
   * that keep whole spaces get.
   */
  mayShare(peer: string, doc: string, offer: boolean): boolean {
    const space = this.#docSpace.get(doc);
    if (space === undefined) return false;
    for (const a of this.#access) {
      if ((!offer || a.offersWholeSpaces) && a.spacesOf(peer)?.has(space)) return true;
    }
    return false;
  }

  /**
   * Who may see which documents changed: have the repo start and stop
   * syncing accordingly. automerge-repo re-checks every document against
   * every peer for this, so a burst of changes is re-checked once.
   */
  changed(): void {
    if (this.#pending) return;
    this.#pending = true;
    setTimeout(() => {
      this.#pending = false;
      if (!this.#stopped()) this.#repo().shareConfigChanged();
    }, 0);
  }
}
