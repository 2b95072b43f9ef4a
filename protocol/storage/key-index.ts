/**
 * An in-memory index of storage keys (string arrays) grouped by their first
 * segment — automerge-repo keys start with the document id — so prefix
 * lookups touch one document's keys, not every key in the store.
 */
import type { Chunk, StorageKey } from "@automerge/automerge-repo";

const SEP = "\u0000";

export class KeyIndex {
  readonly #groups = new Map<string, Map<string, Uint8Array>>();
  #count = 0;

  get size(): number {
    return this.#count;
  }

  get(key: StorageKey): Uint8Array | undefined {
    return this.#groups.get(key[0] ?? "")?.get(key.slice(1).join(SEP));
  }

  /** Store `data`; returns the value it replaced. */
  set(key: StorageKey, data: Uint8Array): Uint8Array | undefined {
    const head = key[0] ?? "";
    let group = this.#groups.get(head);
    if (!group) this.#groups.set(head, group = new Map());
    const rest = key.slice(1).join(SEP);
    const old = group.get(rest);
    if (old === undefined) this.#count++;
    group.set(rest, data);
    return old;
  }

  /** Remove one key; returns the removed value. */
  delete(key: StorageKey): Uint8Array | undefined {
    const head = key[0] ?? "";
    const group = this.#groups.get(head);
    const rest = key.slice(1).join(SEP);
    const old = group?.get(rest);
    if (old === undefined || !group) return undefined;
    group.delete(rest);
    this.#count--;
    if (group.size === 0) this.#groups.delete(head);
    return old;
  }

  /** Every entry whose key starts with `prefix` (whole segments). */
  *range(prefix: StorageKey): Generator<Chunk> {
    if (prefix.length === 0) {
      for (const [head, group] of this.#groups) {
        for (const [rest, data] of group) yield { key: rest === "" ? [head] : [head, ...rest.split(SEP)], data };
      }
      return;
    }
    const head = prefix[0];
    const group = this.#groups.get(head);
    if (!group) return;
    const p = prefix.slice(1).join(SEP);
    for (const [rest, data] of group) {
      if (p === "" || rest === p || rest.startsWith(p + SEP)) {
        yield { key: rest === "" ? [head] : [head, ...rest.split(SEP)], data };
      }
    }
  }
}
