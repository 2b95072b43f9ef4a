/**
 * Which remote repo peers may see which documents: the Repo's share
 * policy. A document is shared with a peer only if it belongs to a space
 * the peer proved membership of on some transport; it is offered unasked
 * only to peers that keep whole spaces. automerge-repo asks this for every
 * peer on every message, so the answer is read from an index of which peers
 * may sync each space — kept up to date as transports admit peers, as peers
 * prove or lose spaces (revocation, lapse) and as they go — in constant
 * time, not by asking every transport. It asks about one document for every
 * peer in turn, so the last document's space and its peers are kept at hand:
 * each answer is then one set lookup (on a relay with 500 stock clients the
 * three map lookups per answer were 6% of its CPU).
 */
import type { PeerId, Repo } from "@automerge/automerge-repo";
import type { PeerAccess } from "../sync/peer-access.ts";

/** The peers that may sync a space: all, and those that keep whole spaces. */
interface Access {
  any: Set<string>;
  whole: Set<string>;
}

const YES = Promise.resolve(true);
const NO = Promise.resolve(false);

export class SharePolicy {
  /** The space each known space document belongs to. */
  readonly #docSpace = new Map<string, string>();
  /** Per space: its known documents (the inverse of #docSpace). */
  readonly #spaceDocs = new Map<string, Set<string>>();
  /** Every transport that grants peers access to spaces. */
  readonly #access: PeerAccess[] = [];
  /** Per connected peer: the spaces it may sync on any transport. */
  readonly #peers = new Map<string, Set<string>>();
  /** Per space: the peers that may sync it on any transport, and those on transports that offer whole spaces. */
  readonly #members = new Map<string, Access>();
  /** The document asked about last, and its space's entry in #members (cleared whenever either changes). */
  #lastDoc: string | undefined;
  #lastMembers: Access | undefined;
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
    const before = this.#peers.get(peer);
    for (const space of before ?? []) {
      const members = this.#members.get(space)!;
      members.any.delete(peer);
      members.whole.delete(peer);
      if (members.any.size === 0) this.#members.delete(space);
    }
    for (const space of any) {
      let members = this.#members.get(space);
      if (members === undefined) this.#members.set(space, members = { any: new Set(), whole: new Set() });
      members.any.add(peer);
      if (whole.has(space)) members.whole.add(peer);
    }
    if (any.size === 0) this.#peers.delete(peer);
    else this.#peers.set(peer, any);
    this.#lastDoc = undefined;
  }

  get access(): readonly PeerAccess[] {
    return this.#access;
  }

  /** Document `doc` belongs to space `space`. */
  registerDocument(doc: string, space: string): void {
    const before = this.#docSpace.get(doc);
    if (before !== undefined) this.#spaceDocs.get(before)?.delete(doc);
    this.#docSpace.set(doc, space);
    let docs = this.#spaceDocs.get(space);
    if (docs === undefined) this.#spaceDocs.set(space, docs = new Set());
    docs.add(doc);
    this.#lastDoc = undefined;
  }

  /** The documents `peer` may see now (those of the spaces it proved): all that `mayShare` can say yes to. */
  *documentsFor(peer: string): Iterable<string> {
    for (const space of this.#peers.get(peer) ?? []) yield* this.#spaceDocs.get(space) ?? [];
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
    if (doc !== this.#lastDoc) {
      const space = this.#docSpace.get(doc);
      this.#lastMembers = space === undefined ? undefined : this.#members.get(space);
      this.#lastDoc = doc;
    }
    const members = this.#lastMembers;
    return members !== undefined && (offer ? members.whole : members.any).has(peer);
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
