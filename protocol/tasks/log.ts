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
  status: "applied" | "refused" | "pending" | "duplicate";
  reason?: string;
  code?: string;
  op?: TaskOp;
}

export class TaskLog {
  readonly #authority: SpaceAuthority;
  readonly #diagnostics: Diagnostics;
  /** Every CID seen: valid, refused or pending. */
  readonly #seen = new Set<string>();
  readonly #valid: Entry[] = [];
  readonly #pending = new Map<string, Uint8Array>();
  /** The operation outcomes of the last reduction, by CID. */
  readonly #outcomes = new Map<string, Outcome>();
  #reducer = new TaskReducer();
  /** Whether #valid is sorted and fully applied to #reducer. */
  #dirty = false;
  #appliedUpTo = 0;

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

  /** Check one signed operation and add it to the log. */
  async ingest(bytes: Uint8Array, cid?: string): Promise<Ingested> {
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
    const entry: Entry = { op, proofs: inv.prf.map(cidKey) };
    const revoked = entry.proofs.find((k) => this.#isRevokedKey(k));
    this.#valid.push(entry);
    this.#diagnostics.count("ops.verified");
    if (revoked !== undefined) {
      this.#dirty = true;
      return this.#refuse(id, inv.iss, new UcanError("Revoked", "it relies on a revoked delegation"), op);
    }
    const last = this.#valid.length >= 2 ? this.#valid[this.#valid.length - 2] : undefined;
    if (!this.#dirty && this.#appliedUpTo === this.#valid.length - 1 && (!last || compareOps(last.op, op) < 0)) {
      // In order: apply incrementally.
      const outcome = this.#reducer.apply(op);
      this.#outcomes.set(id, outcome);
      this.#appliedUpTo = this.#valid.length;
      if (!outcome.applied) this.#noteConflict(op, outcome.reason);
      return outcome.applied
        ? { cid: id, status: "applied", op }
        : { cid: id, status: "refused", reason: outcome.reason, code: "task/conflict", op };
    }
    this.#dirty = true;
    this.#reduce();
    const outcome = this.#outcomes.get(id);
    if (outcome && !outcome.applied) this.#noteConflict(op, outcome.reason);
    return outcome?.applied ? { cid: id, status: "applied", op } : {
      cid: id,
      status: "refused",
      reason: outcome && !outcome.applied ? outcome.reason : "",
      code: "task/conflict",
      op,
    };
  }

  /**
   * Delegations or revocations changed: retry waiting operations and
   * re-reduce (operations leaning on a revoked delegation drop out).
   */
  async revalidate(): Promise<void> {
    for (const [id, bytes] of [...this.#pending]) {
      this.#seen.delete(id);
      await this.ingest(bytes, id);
    }
    this.#dirty = true;
  }

  #isRevokedKey(key: string): boolean {
    return this.#authority.isRevokedKey(key);
  }

  /** Rebuild the state from the valid, unrevoked operations in (HLC, CID) order. */
  #reduce(): void {
    if (!this.#dirty) return;
    this.#valid.sort((a, b) => compareOps(a.op, b.op));
    const reducer = new TaskReducer();
    this.#outcomes.clear();
    for (const e of this.#valid) {
      if (e.proofs.some((k) => this.#isRevokedKey(k))) {
        this.#outcomes.set(e.op.cid, { applied: false, reason: "relies on a revoked delegation" });
        continue;
      }
      this.#outcomes.set(e.op.cid, reducer.apply(e.op));
    }
    this.#reducer = reducer;
    this.#appliedUpTo = this.#valid.length;
    this.#dirty = false;
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
