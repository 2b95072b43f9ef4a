/**
 * A space's task operation log: signed operations in, reduced task state
 * out. Every operation is checked before it counts — signature, shape,
 * subject, and a delegation chain that authorized it at its own timestamp —
 * and kept out of the state if any check fails, with the refusal recorded.
 * An operation whose proof is not known yet waits; one leaning on a
 * delegation revoked later drops out of the state on every node.
 */
import { cidKey } from "../codec/cid.ts";
import type { Diagnostics } from "../diagnostics.ts";
import { isWeftError } from "../errors.ts";
import type { SpaceAuthority } from "../space/authority.ts";
import { UcanError } from "../ucan/errors.ts";
import { compareOps, type Outcome, TaskReducer } from "./reducer.ts";
import { parseTaskOp, type TaskOp } from "./ops.ts";

interface Entry {
  op: TaskOp;
  /** Keys (cidKey) of the delegations its chain uses. */
  proofs: string[];
}

export interface Ingested {
  cid: string;
  /**
   * applied/refused: the reducer's verdict; accepted: valid and in the log,
   * verdict computed on the next read; pending: a proof is missing.
   */
  status: "applied" | "refused" | "accepted" | "pending" | "duplicate";
  reason?: string;
  code?: string;
  op?: TaskOp;
}

/** How far behind the head the rewind checkpoint trails, in operations. */
const CHECKPOINT_LAG = 256;

export class TaskLog {
  readonly #authority: SpaceAuthority;
  readonly #diagnostics: Diagnostics;
  /** Every CID seen: valid, refused or pending. */
  readonly #seen = new Set<string>();
  /** Valid operations in (HLC, CID) order. */
  readonly #valid: Entry[] = [];
  readonly #pending = new Map<string, Uint8Array>();
  /** The reducer's verdict on each valid operation, by CID. */
  readonly #outcomes = new Map<string, Outcome>();
  #reducer = new TaskReducer();
  /** #valid[0 .. #applied) is reflected in #reducer. */
  #applied = 0;
  /** A snapshot of the state after #valid[0 .. #checkpoint.at), to rewind to. */
  #checkpoint = { at: 0, reducer: new TaskReducer() };

  constructor(authority: SpaceAuthority, diagnostics: Diagnostics) {
    this.#authority = authority;
    this.#diagnostics = diagnostics;
  }

  get space(): string {
    return this.#authority.space;
  }

  get reducer(): TaskReducer {
    this.#reduce();
    return this.#reducer;
  }

  has(cid: string): boolean {
    return this.#seen.has(cid);
  }

  get size(): number {
    return this.#valid.length;
  }

  get pendingCount(): number {
    return this.#pending.size;
  }

  /** The reducer's verdict on a valid operation (applied, or refused with why). */
  outcome(cid: string): Outcome | undefined {
    this.#reduce();
    return this.#outcomes.get(cid);
  }

  /**
   * Check one signed operation and add it to the log. With `verdict`, the
   * caller learns at once whether it applied; without, reduction waits for
   * the next read, so a batch of operations costs one reduction.
   */
  async ingest(bytes: Uint8Array, cid?: string, options: { verdict?: boolean } = {}): Promise<Ingested> {
    const validator = this.#authority.validator;
    let inv;
    try {
      inv = await validator.verifyInvocationSignature(bytes);
    } catch (e) {
      return this.#refuse(cid ?? "?", undefined, e);
    }
    const id = inv.cid.toString();
    if (cid !== undefined && cid !== id) {
      return this.#refuse(cid, inv.iss, new UcanError("MalformedToken", `stored under ${cid} but its CID is ${id}`));
    }
    if (this.#seen.has(id) && !this.#pending.has(id)) return { cid: id, status: "duplicate" };
    this.#seen.add(id);
    let op: TaskOp;
    try {
      if (inv.sub !== this.space) {
        throw new UcanError("InvalidSubject", `this operation is for ${inv.sub}, not this space`);
      }
      op = parseTaskOp(inv.cmd, inv.args, id, inv.iss);
      await validator.validate(inv, { now: Math.floor(op.args.at[0] / 1000) });
    } catch (e) {
      if (e instanceof UcanError && e.name === "UnavailableProof") {
        this.#pending.set(id, bytes);
        this.#diagnostics.count("ops.pending");
        return { cid: id, status: "pending", reason: e.message, code: e.code };
      }
      this.#pending.delete(id);
      return this.#refuse(id, inv.iss, e);
    }
    this.#pending.delete(id);
    this.#diagnostics.count("ops.verified");
    const entry: Entry = { op, proofs: inv.prf.map(cidKey) };
    const at = this.#insert(entry);
    if (entry.proofs.some((k) => this.#authority.isRevokedKey(k))) {
      // Kept in the log (reductions skip it), refused now.
      return this.#refuse(id, inv.iss, new UcanError("Revoked", "it relies on a revoked delegation"), op);
    }
    if (at === this.#applied && this.#applied === this.#valid.length - 1) {
      this.#applyNext(); // in order: apply now, cheaply
    } else if (!options.verdict) {
      return { cid: id, status: "accepted", op };
    }
    this.#reduce();
    const outcome = this.#outcomes.get(id) as Outcome;
    if (!outcome.applied) this.#noteConflict(op, outcome.reason);
    return outcome.applied
      ? { cid: id, status: "applied", op }
      : { cid: id, status: "refused", reason: outcome.reason, code: "task/conflict", op };
  }

  /** Insert in (HLC, CID) order; returns the index. Anything applied after it must be redone. */
  #insert(entry: Entry): number {
    let lo = 0;
    let hi = this.#valid.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareOps(this.#valid[mid].op, entry.op) < 0) lo = mid + 1;
      else hi = mid;
    }
    this.#valid.splice(lo, 0, entry);
    if (lo < this.#applied) this.#rewind(lo);
    return lo;
  }

  /** Forget the state after index `to`: back to the checkpoint if it is early enough, else to nothing. */
  #rewind(to: number): void {
    if (this.#checkpoint.at <= to) {
      this.#reducer = this.#checkpoint.reducer.fork();
      this.#applied = this.#checkpoint.at;
    } else {
      this.#reducer = new TaskReducer();
      this.#applied = 0;
      this.#checkpoint = { at: 0, reducer: new TaskReducer() };
    }
  }

  #applyNext(): void {
    const e = this.#valid[this.#applied++];
    const outcome: Outcome = e.proofs.some((k) => this.#authority.isRevokedKey(k))
      ? { applied: false, reason: "relies on a revoked delegation" }
      : this.#reducer.apply(e.op);
    this.#outcomes.set(e.op.cid, outcome);
    // Keep a checkpoint trailing the head, so most late arrivals replay a short tail.
    if (this.#applied - this.#checkpoint.at >= 2 * CHECKPOINT_LAG) {
      this.#checkpoint = { at: this.#applied, reducer: this.#reducer.fork() };
    }
  }

  /** Bring the state up to date with every valid operation. */
  #reduce(): void {
    while (this.#applied < this.#valid.length) this.#applyNext();
  }

  /**
   * Delegations or revocations changed: retry waiting operations and reduce
   * again from the start (operations leaning on a revoked delegation drop out).
   */
  async revalidate(): Promise<void> {
    for (const [id, bytes] of [...this.#pending]) {
      this.#seen.delete(id);
      await this.ingest(bytes, id);
    }
    this.#rewind(-1);
  }

  #noteConflict(op: TaskOp, reason: string): void {
    this.#diagnostics.count("ops.conflicts");
    this.#diagnostics.refuse({
      kind: "op",
      from: op.author,
      what: `${op.kind} ${op.cid}`,
      code: "task/conflict",
      reason,
      space: this.space,
    });
  }

  #refuse(cid: string, from: string | undefined, e: unknown, op?: TaskOp): Ingested {
    const code = isWeftError(e) ? e.code : "op/invalid";
    const reason = (e as Error).message;
    this.#diagnostics.refuse({
      kind: "op",
      ...(from ? { from } : {}),
      what: op ? `${op.kind} ${cid}` : cid,
      code,
      reason,
      space: this.space,
    });
    return { cid, status: "refused", reason, code };
  }
}
