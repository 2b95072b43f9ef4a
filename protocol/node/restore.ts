/**
 * What a node remembers about itself: which spaces it is in (by their
 * document URL) and, for a space joined but not fetched yet, the chain it
 * joined with. Stored under its own key in the node's storage, never
 * synced; read back on start so a node rejoins and reopens its spaces.
 */
import type { AutomergeUrl, StorageAdapterInterface } from "@automerge/automerge-repo";
import * as cborg from "cborg";
import { Space } from "../space/space.ts";
import { decodeDelegation } from "../ucan/delegation.ts";
import type { Joining } from "./joining.ts";
import type { NodeContext } from "./node-context.ts";

export interface SpaceRecord {
  url: string;
  /** The chain this node joined with, root first, until the space document has it. */
  tokens: Uint8Array[];
}

const NODE_KEY = ["weft-node", "spaces"];

const isRecord = (v: unknown): v is SpaceRecord =>
  typeof v === "object" && v !== null && typeof (v as SpaceRecord).url === "string" &&
  Array.isArray((v as SpaceRecord).tokens) && (v as SpaceRecord).tokens.every((t) => t instanceof Uint8Array);

export class NodeRecords {
  readonly #storage: StorageAdapterInterface;
  readonly #records = new Map<string, SpaceRecord>();

  constructor(storage: StorageAdapterInterface) {
    this.#storage = storage;
  }

  /** Remember `record` for a space; durable when this resolves. */
  async save(space: string, record: SpaceRecord): Promise<void> {
    this.#records.set(space, record);
    await this.#storage.save(NODE_KEY, cborg.encode(Object.fromEntries(this.#records)));
  }

  /**
   * Rejoin the spaces joined but not fetched, and reopen the others from
   * storage; `opened` is told of each space reopened. A record that cannot
   * be read or opened is reported and skipped.
   */
  async restore(ctx: NodeContext, joining: Joining, opened: (space: Space) => void): Promise<void> {
    const bytes = await this.#storage.load(NODE_KEY);
    if (!bytes) return;
    const records = cborg.decode(bytes) as Record<string, unknown>;
    for (const [id, record] of Object.entries(records)) {
      if (!isRecord(record)) {
        ctx.diagnostics.refuse({ kind: "sync", what: `space ${id}`, code: "space/load-failed", reason: "bad record" });
        continue;
      }
      this.#records.set(id, record);
      if (record.tokens.length > 0) {
        const chain = record.tokens.map((t) => decodeDelegation(t));
        joining.start({ space: id, url: record.url, tokens: record.tokens }, chain);
        continue;
      }
      try {
        opened(await Space.open(ctx.deps(), record.url as AutomergeUrl, { signal: AbortSignal.timeout(30_000) }));
      } catch (e) {
        ctx.diagnostics.refuse({ kind: "sync", what: `space ${id}`, code: "space/load-failed", reason: String(e) });
      }
    }
  }
}
