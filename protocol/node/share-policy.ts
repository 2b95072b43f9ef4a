/**
 * Which remote repo peers may see which documents: the Repo's share
 * policy. A document is shared with a peer only if it belongs to a space
 * the peer proved membership of on some transport; it is offered unasked
 * only to peers that keep whole spaces. automerge-repo asks this for every
 * peer on every message, so the answer is read from an index of what each
 * peer may sync — kept up to date as transports admit peers, as peers prove
 * or lose spaces (revocation, lapse) and as they go — in constant time, not
 * by asking every transport.
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
  /** Per connected peer: the spaces it may sync on any transport, and those on transports that offer whole spaces. */
  readonly #peers = new Map<string, { any: Set<string>; whole: Set<string> }>();
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
    access.onPeerAccess((peer) => this.#reindex(peer));
  }

  /** What `peer` may sync changed on some transport: read it again from all of them. */
  #reindex(peer: string): void {
    const any = new Set<string>();
    const whole = new Set<string>();
    for (const a of this.#access) {
      for (const space of a.spacesOf(peer) ?? []) {
        any.add(space);
        if (a.offersWholeSpaces) whole.add(space);
      }
    }
    if (any.size === 0) this.#peers.delete(peer);
    else this.#peers.set(peer, { any, whole });
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
    const spaces = this.#peers.get(peer);
    return spaces !== undefined && (offer ? spaces.whole : spaces.any).has(space);
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
