/**
 * Gathers what the repo sends a writing peer for a document in the moments
 * after its write into one sync message.
 *
 * automerge-repo answers every sync message at once, from the document as
 * it stood before applying it, and tells the document's peers of the
 * change on a timer (at most 100 ms later). When a relay serves the writes
 * of a document's clients together, the k-th client's answer carries the
 * k − 1 writes served before its own and the timer's message the rest: two
 * messages with changes per client per round of writes, each applied and
 * answered by the client. Gathered (sync-message-merge.ts), they are one.
 *
 * A peer's sync message that carries changes opens a window of `holdMs`
 * for the peer and document (the repo's timer fires within it). Sync
 * messages for them while it is open are merged and held; when it closes,
 * the one message goes out. A peer that only reads opens no window: what
 * is sent to it is not held. A message that cannot be merged sends what is
 * held first, and so does any other kind of message for the peer and
 * document, so a peer's messages for a document keep their order.
 */
import { carriesChanges, mergeSyncMessages } from "./sync-message-merge.ts";

/** A sync message on its way to a peer: what is merged is its `data`. */
export interface HeldMessage {
  data: Uint8Array;
}

interface Window<M extends HeldMessage> {
  /** What is held, if anything has been sent since the window opened. */
  message?: M;
  timer: ReturnType<typeof setTimeout>;
}

export class HeldAnswers<M extends HeldMessage> {
  readonly #holdMs: number;
  readonly #deliver: (peer: string, message: M) => void;
  readonly #onMerged: () => void;
  /** Per peer, per document, the open window. */
  readonly #windows = new Map<string, Map<string, Window<M>>>();

  constructor(options: { holdMs: number; deliver: (peer: string, message: M) => void; onMerged?: () => void }) {
    this.#holdMs = options.holdMs;
    this.#deliver = options.deliver;
    this.#onMerged = options.onMerged ?? (() => {});
  }

  /** `peer`'s sync message `data` for `document` is going to the repo: a write opens a window. */
  received(peer: string, document: string, data: Uint8Array): void {
    if (!carriesChanges(data)) return;
    let docs = this.#windows.get(peer);
    if (docs === undefined) this.#windows.set(peer, docs = new Map());
    if (docs.has(document)) return;
    docs.set(document, { timer: setTimeout(() => this.#close(peer, document), this.#holdMs) });
  }

  /** Send a sync message for `document` to `peer`: held and merged while a window is open. */
  sendSync(peer: string, document: string, message: M): void {
    const window = this.#windows.get(peer)?.get(document);
    if (window === undefined) return this.#deliver(peer, message);
    if (window.message !== undefined) {
      const merged = mergeSyncMessages(window.message.data, message.data);
      if (merged === undefined) this.#deliver(peer, window.message);
      else {
        this.#onMerged();
        message = { ...message, data: merged };
      }
    }
    window.message = message;
  }

  /** Another kind of message for `document` (any document if undefined) is about to go to `peer`: what is held goes first. */
  flush(peer: string, document?: string): void {
    for (const doc of [...this.#windows.get(peer)?.keys() ?? []]) {
      if (document === undefined || doc === document) this.#close(peer, doc);
    }
  }

  /** The peer is gone: nothing held for it is sent. */
  forget(peer: string): void {
    for (const window of this.#windows.get(peer)?.values() ?? []) clearTimeout(window.timer);
    this.#windows.delete(peer);
  }

  /** Stop: nothing held is sent. */
  clear(): void {
    for (const peer of [...this.#windows.keys()]) this.forget(peer);
  }

  /** Close the window for `peer` and `document`, sending what it holds. */
  #close(peer: string, document: string): void {
    const docs = this.#windows.get(peer);
    const window = docs?.get(document);
    if (window === undefined) return;
    clearTimeout(window.timer);
    docs!.delete(document);
    if (docs!.size === 0) this.#windows.delete(peer);
    if (window.message !== undefined) this.#deliver(peer, window.message);
  }
}
