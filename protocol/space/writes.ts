/**
 * The local write path of a space: operations this node makes (or takes
 * from the API) are applied to the log one at a time, in the order they
 * were stamped, then written to their bucket documents in batches and
 * flushed before the write resolves: nothing acknowledged is lost, and a
 * burst shares one document change per bucket and one flush, so peers get
 * it in one sync round rather than one each.
 *
 * Every operation a local one names as a parent (`after`) can be had from
 * this node's documents: one known only from outside them is written with
 * it — a lease renewal heard on gossip, whose author may have died before
 * its own documents synced, or one of this node's own that the log took in
 * but the reducer refused (a renewal racing a cancel): refused, it was not
 * written, yet it is in the log's graph and so among the heads the next
 * operation names — and so is any such ancestor of it, however many in a
 * row. Otherwise every other node would hold the new operation back
 * forever, waiting for a parent no one can send.
 */
import type { DocHandle, DocumentId, Repo } from "@automerge/automerge-repo";
import type { Invocation } from "../ucan/invocation.ts";
import type { OpLog } from "../tasks/log.ts";
import { InvalidInput } from "../schema/input-checks.ts";
import { type BucketDoc, bucketOf } from "./docs.ts";
import { ApprovalRequired, Conflict, Forbidden } from "./errors.ts";

export interface LocalWritesOptions {
  log: OpLog;
  repo: Repo;
  /** The space's bucket documents, once attached. */
  buckets: () => readonly DocHandle<BucketDoc>[];
  /** These documents changed and are flushed (e.g. to announce heads). */
  written(ids: DocumentId[]): void;
  /** The bytes of an operation this node has from outside its documents (gossip), if it still keeps them. */
  heardOutside(cid: string): Uint8Array | undefined;
}

/** An operation to write: its CID and signed bytes. */
interface Entry {
  cid: string;
  bytes: Uint8Array;
}

/** How long a batch waits for more under a steady stream of local operations. */
const BATCH_MS = 20;
/** Refused local operations whose bytes are kept, in case a later one names them (oldest dropped first). */
const MAX_REFUSED_KEPT = 1024;

export class LocalWrites {
  readonly #o: LocalWritesOptions;
  /** Local operations are stamped, signed and applied one at a time, so they reach the log in clock order. */
  #local: Promise<unknown> = Promise.resolve();
  /** Local operations being stamped and signed right now. */
  #signing = 0;
  /** Operations waiting to be written, by bucket. */
  #writes = new Map<number, Entry[]>();
  #written: Promise<void> | undefined;
  #release?: () => void;
  /** Local operations in the log whose reducer verdict was a refusal, so not written (yet). */
  readonly #refused = new Map<string, Uint8Array>();

  constructor(options: LocalWritesOptions) {
    this.#o = options;
  }

  /**
   * Apply one operation in local order (stamping, signing and applying are
   * serialized so operations reach the log in clock order), then write it.
   * `object` (a task id, a repository name) picks the bucket document.
   * Resolves with the operation once it is durable; refuses with the reason.
   * `applied` is called once it is applied, before it is written: a local
   * operation committed from there joins the same batch (one flush for both).
   */
  async commit(
    object: string,
    make: () => Promise<Invocation>,
    applied?: (inv: Invocation) => void,
  ): Promise<Invocation> {
    const apply = async (): Promise<Invocation> => {
      const inv = await make();
      const result = await this.#o.log.ingest(inv.bytes, undefined, { verdict: true });
      if (result.status === "applied") return inv;
      // Refused by the reducer, yet in the log's graph: a later operation may name it.
      if (this.#o.log.entry(result.cid) !== undefined) this.#keepRefused(result.cid, inv.bytes);
      if (result.code === "task/conflict") throw new Conflict(result.reason ?? "the operation was refused");
      if (result.code === "approval/required") throw new ApprovalRequired(result.reason ?? "needs an approval");
      if (result.code?.startsWith("input/")) throw new InvalidInput("args", result.reason ?? "is invalid");
      throw new Forbidden(result.reason ?? "the operation was refused");
    };
    this.#signing++;
    const turn = this.#local.then(apply, apply).finally(() => this.#signing--);
    this.#local = turn.catch(() => {
      // Refused, so never written: a batch waiting for it goes now rather than at its timer.
      if (this.#signing === 0) this.#release?.();
    });
    const inv = await turn;
    try {
      applied?.(inv);
    } catch {
      // Whatever reacted to it failed on its own: this operation is written all the same.
    }
    const buckets = this.#o.buckets().length;
    for (const parent of this.#unshipped(inv)) {
      this.#refused.delete(parent.cid);
      void this.#write(bucketOf(parent.object, buckets), parent);
    }
    await this.#write(bucketOf(object, buckets), { cid: inv.cid.toString(), bytes: inv.bytes });
    return inv;
  }

  /** A refused local operation stays in the log's graph: keep its bytes (bounded) to ship if named. */
  #keepRefused(cid: string, bytes: Uint8Array): void {
    if (this.#refused.size >= MAX_REFUSED_KEPT) this.#refused.delete(this.#refused.keys().next().value as string);
    this.#refused.set(cid, bytes);
  }

  /**
   * The ancestors of `inv` that this node's documents do not hold, with the
   * bytes it has them as: its parents, and theirs in turn while they are
   * unshipped too (two refused operations in a row: the second names the
   * first, the next written one names only the second).
   */
  #unshipped(inv: Invocation): (Entry & { object: string })[] {
    const buckets = this.#o.buckets();
    const out: (Entry & { object: string })[] = [];
    const seen = new Set<string>();
    const parents = (after: unknown) => Array.isArray(after) ? after.filter((c) => typeof c === "string") : [];
    const queue: string[] = parents(inv.args.after);
    while (queue.length > 0) {
      const cid = queue.pop()!;
      if (seen.has(cid)) continue;
      seen.add(cid);
      const bytes = this.#o.heardOutside(cid) ?? this.#refused.get(cid);
      const entry = this.#o.log.entry(cid);
      if (bytes === undefined || entry === undefined) continue;
      if (buckets[bucketOf(entry.object, buckets.length)]?.doc()?.ops?.[cid] !== undefined) continue;
      out.push({ cid, bytes, object: entry.object });
      queue.push(...parents((entry.op.args as { after?: unknown }).after));
    }
    return out;
  }

  /**
   * Write an operation to its bucket document and flush. A batch is written
   * once no other local operation is being signed (or after BATCH_MS under a
   * steady stream).
   */
  #write(bucket: number, entry: Entry): Promise<void> {
    const list = this.#writes.get(bucket) ?? [];
    list.push(entry);
    this.#writes.set(bucket, list);
    if (!this.#written) {
      const ready = new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, BATCH_MS);
        this.#release = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#written = ready.then(() => this.#writeBatch());
    }
    if (this.#signing === 0) this.#release?.();
    return this.#written;
  }

  async #writeBatch(): Promise<void> {
    const batch = this.#writes;
    this.#writes = new Map();
    this.#written = undefined;
    this.#release = undefined;
    const buckets = this.#o.buckets();
    const ids: DocumentId[] = [];
    for (const [i, invs] of batch) {
      const handle = buckets[i];
      handle.change((d) => {
        for (const x of invs) d.ops[x.cid] = x.bytes;
      });
      ids.push(handle.documentId);
    }
    await this.#o.repo.flush(ids);
    this.#o.written(ids);
  }
}
