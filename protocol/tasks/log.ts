/**
 * A space's operation log: signed operations of every family (tasks,
 * repositories, …; see family.ts) in, each family's reduced state out, all
 * in one causal graph. Every operation is checked before it counts — signature, shape,
 * subject, its causal parents (known, and earlier than it), a date no
 * further ahead of this node's clock than a small skew, and a delegation
 * chain that authorized it at its own time — and kept out of the state if
 * any check fails, with the refusal recorded. An operation whose proof or
 * parents are not known yet waits, and so does one dated a little ahead.
 *
 * Whether its authority still stands after an expiry or a revocation is
 * judged causally on every reduction (ended-authority.ts); so are leases
 * (reducer.ts). Both can ask for another pass: a provisional verdict whose
 * deadline the log has passed, or a lease operation superseded by a claim
 * that saw its lease lapse.
 *
 * Longer than our files usually are (~500 lines), on purpose: admitting,
 * holding back and re-judging operations share one set of indexes (seen,
 * waiting, orphans by parent, the graph), and splitting them would spread
 * one invariant — an operation is in exactly one of valid, waiting or
 * refused — over several files. The judging itself lives in causal.ts,
 * time-gate.ts, ended-authority.ts and reducer.ts.
 */
import { cidKey } from "../codec/cid.ts";
import type { Diagnostics } from "../diagnostics.ts";
import { isWeftError } from "../errors.ts";
import { InvalidInput } from "../schema/input-checks.ts";
import type { SpaceAuthority } from "../space/authority.ts";
import { UcanError } from "../ucan/errors.ts";
import type { Invocation } from "../ucan/invocation.ts";
import { CausalGraph } from "./causal.ts";
import { Pacer } from "./pace.ts";
import { compareHlc, type Hlc, isHlc } from "./hlc.ts";
import type { TaskReducer } from "./reducer.ts";
import {
  compareOps,
  type FamilyReducer,
  type LogOp,
  type OpFamily,
  type Outcome,
  type ReduceContext,
} from "./family.ts";
import { MAX_LEASE_MS, MAX_PARENTS, type TaskOp } from "./ops.ts";
import { TASK_FAMILY, taskFamily } from "./task-family.ts";
import { judgeStanding, type RevocationMark, revocationPosition, type StandingContext } from "./ended-authority.ts";
import { judgeTime, MAX_SKEW_MS } from "./time-gate.ts";
import { budgetOf, type KeyedBudget } from "../ucan/budget.ts";
import { principalOf } from "../ucan/principal.ts";

/** A valid operation: what it said, its family and the object it acts on. */
export interface LogEntry {
  op: LogOp;
  family: OpFamily;
  object: string;
}

interface Entry extends LogEntry {
  /** Keys (cidKey) of the delegations its chain uses. */
  proofs: string[];
  /** Whom it counts for, from its verified chain (ucan/principal.ts): its author, or whom the author acted for. */
  principal: string;
}

/** An operation that waits, with what was already checked of it. */
interface Waiting extends LogEntry {
  bytes: Uint8Array;
  inv: Invocation;
}

/** Every family's state at one point of the reduction. */
type Reducers = Map<string, FamilyReducer>;

export interface Ingested {
  cid: string;
  /**
   * applied/refused: the reducer's verdict; accepted: valid and in the log,
   * verdict computed on the next read; pending: a proof or a parent is
   * missing, or it is dated ahead of this node's clock.
   */
  status: "applied" | "refused" | "accepted" | "pending" | "duplicate";
  reason?: string;
  code?: string;
  op?: LogOp;
  /** The family of `op`, and the object it acts on. */
  family?: string;
  object?: string;
}

export interface OpLogOptions {
  /** This node's clock, Unix ms. */
  now?: () => number;
  /**
   * Operations that waited (for a parent or their time) joined the log: all
   * those one ingest or batch took up, in one call.
   */
  onLate?: (entries: LogEntry[]) => void;
  /** The space's offline grace (ms): see ended-authority.ts. */
  graceMs?: number;
  /** Families besides tasks (which every log has), each with a distinct name. */
  families?: readonly OpFamily[];
}

/** How long a signer whose authority ended has for its last work to be built on by others. */
export const DEFAULT_GRACE_MS = 15 * 60 * 1000;
/** How far behind the head the rewind checkpoint trails, in operations. */
const CHECKPOINT_LAG = 256;
/** Waiting operations kept at most (missing proofs, missing parents, dated ahead). */
const MAX_WAITING = 10_000;
/** Passes at most to settle what supersedes what. */
const MAX_PASSES = 16;

/** Order of two checked invocations by their HLC `at` (those without one last). */
function compareAt(a: Invocation | undefined, b: Invocation | undefined): number {
  const x = isHlc(a?.args.at) ? a.args.at : undefined;
  const y = isHlc(b?.args.at) ? b.args.at : undefined;
  if (x === undefined || y === undefined) return x === undefined ? (y === undefined ? 0 : 1) : -1;
  return compareHlc(x, y);
}

export class OpLog {
  readonly #authority: SpaceAuthority;
  readonly #diagnostics: Diagnostics;
  readonly #now: () => number;
  readonly #onLate?: (entries: LogEntry[]) => void;
  /** Waiting operations taken up by the ingests under way, announced together when the outermost ends. */
  #late: LogEntry[] = [];
  #ingesting = 0;
  readonly #families: readonly OpFamily[];
  readonly #graph = new CausalGraph();
  /** Every CID seen: valid, refused or waiting. */
  readonly #seen = new Set<string>();
  /** Valid operations in (HLC, CID) order (but for those in #unmerged). */
  #valid: Entry[] = [];
  /**
   * Valid operations that arrived out of order and wait to be merged into
   * #valid before the next reduction: one sort and one merge per batch, not
   * a splice per operation (50,000 operations read from storage in bucket
   * order spliced one by one took 11 s here).
   */
  #unmerged: Entry[] = [];
  readonly #byCid = new Map<string, Entry>();
  /** Operations waiting for a proof, a parent, or their time. */
  readonly #waiting = new Map<string, Waiting>();
  /** Waiting operations by the parent they wait for. */
  readonly #orphans = new Map<string, Set<string>>();
  /** The reducer's verdict on each valid operation, by CID. */
  readonly #outcomes = new Map<string, Outcome>();
  /** Operations set aside by a later claim in this reduction (see reducer.ts). */
  readonly #superseded = new Set<string>();
  /** Objects (family, id) whose reduction superseded something: new operations on them reduce everything again. */
  readonly #contested = new Set<string>();
  #contestedUntil = -Infinity;
  /** The earliest time at which a provisional verdict must be judged again. */
  #deadline = Infinity;
  readonly #revocationMarks = new Map<string, RevocationMark>();
  #reducers: Reducers;
  /** #valid[0 .. #applied) is reflected in #reducers. */
  #applied = 0;
  /** A snapshot of the state after #valid[0 .. #checkpoint.at), to rewind to. */
  #checkpoint: { at: number; reducers: Reducers };
  readonly #context: ReduceContext;
  readonly #standing: StandingContext;
  /** Timers that take up operations dated ahead once their time comes (cleared by `stop`). */
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  #stopped = false;

  constructor(authority: SpaceAuthority, diagnostics: Diagnostics, options: OpLogOptions = {}) {
    this.#authority = authority;
    this.#diagnostics = diagnostics;
    this.#now = options.now ?? Date.now;
    this.#onLate = options.onLate;
    this.#families = [taskFamily as OpFamily, ...(options.families ?? [])];
    const names = new Set(this.#families.map((f) => f.name));
    if (names.size !== this.#families.length) throw new TypeError("two operation families share a name");
    this.#reducers = this.#freshReducers();
    this.#checkpoint = { at: 0, reducers: this.#freshReducers() };
    const graph = this.#graph;
    this.#context = {
      precedes: (a, b) => graph.precedes(a, b),
      witnessTime: (cid, exclude) => graph.witnessTime(cid, (n) => !exclude.includes(n.author)),
      reducer: (name) => this.#reducers.get(name),
      budgetsOf: (op) => this.#budgetsOf(this.#byCid.get(op.cid)?.proofs ?? []),
      principalOf: (op) => this.#byCid.get(op.cid)?.principal ?? op.author,
      isAgent: (op) =>
        (this.#byCid.get(op.cid)?.proofs ?? []).some((k) => this.#authority.delegationByKey(k)?.meta?.kind === "agent"),
    };
    this.#standing = {
      graph,
      graceMs: options.graceMs ?? DEFAULT_GRACE_MS,
      expiryOf: (key) => authority.delegationByKey(key)?.exp,
      revocationOf: (key) => this.#revocationMark(key),
      proofsOf: (cid) => this.#byCid.get(cid)?.proofs,
    };
  }

  /** Stop waiting for operations dated ahead: they stay waiting, and a log read again takes them up. */
  stop(): void {
    this.#stopped = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }

  get space(): string {
    return this.#authority.space;
  }

  /** The tasks' reduced state. */
  get reducer(): TaskReducer {
    return this.state<TaskReducer>(TASK_FAMILY);
  }

  /** Family `name`'s reduced state, up to date with every valid operation. */
  state<R extends FamilyReducer>(name: string): R {
    this.#reduce();
    const r = this.#reducers.get(name);
    if (!r) throw new TypeError(`this log has no operation family ${name}`);
    return r as R;
  }

  #freshReducers(): Reducers {
    return new Map(this.#families.map((f) => [f.name, f.reducer()]));
  }

  #fork(reducers: Reducers): Reducers {
    return new Map([...reducers].map(([name, r]) => [name, r.fork()]));
  }

  has(cid: string): boolean {
    return this.#seen.has(cid);
  }

  get size(): number {
    return this.#valid.length + this.#unmerged.length;
  }

  get pendingCount(): number {
    return this.#waiting.size;
  }

  /** The operations a new one names as its parents: the heads of the graph, newest first. */
  heads(): string[] {
    return this.#graph.heads(MAX_PARENTS);
  }

  /**
   * Does this operation need others to build on it? One its family says so
   * of does (a claim: concurrent claims are settled by who was witnessed
   * first), and so does anything signed under authority that ends (see
   * ended-authority.ts).
   */
  needsWitness(cid: string): boolean {
    const e = this.#byCid.get(cid);
    if (!e) return false;
    if (e.family.needsWitness?.(e.op)) return true;
    return e.proofs.some((k) =>
      this.#authority.isRevokedKey(k) || (this.#authority.delegationByKey(k)?.exp ?? null) !== null
    );
  }

  /** A valid task operation in the log, by CID (what it said, and who signed it). */
  op(cid: string): TaskOp | undefined {
    const e = this.#byCid.get(cid);
    return e?.family.name === TASK_FAMILY ? e.op as TaskOp : undefined;
  }

  /** A valid operation of any family, by CID, with its family and object. */
  entry(cid: string): LogEntry | undefined {
    const e = this.#byCid.get(cid);
    return e && { op: e.op, family: e.family, object: e.object };
  }

  /**
   * Whom a valid operation counts for: its author, or the principal whose
   * delegation let the author act for them (a person, for a bridge they paired).
   */
  principalOf(cid: string): string | undefined {
    return this.#byCid.get(cid)?.principal;
  }

  /** Was `ancestor` in the causal past of `cid` (its author had seen it)? Tells concurrent edits from later ones. */
  precedes(ancestor: string, cid: string): boolean {
    return this.#graph.precedes(ancestor, cid);
  }

  /** The time of an operation in the graph. */
  timeOf(cid: string): Hlc | undefined {
    return this.#graph.get(cid)?.at;
  }

  /** Change the space's offline grace (from its genesis); judges everything again. */
  setGrace(ms: number): void {
    this.#standing.graceMs = ms;
    this.#rewindAll();
  }

  /** The reducer's verdict on a valid operation (applied, or refused with why). */
  outcome(cid: string): Outcome | undefined {
    this.#reduce();
    return this.#outcomes.get(cid);
  }

  /**
   * Check the signatures of a batch of signed operations, all at once, so a
   * verifier that spreads checks over threads (the peer's pool) takes in a
   * burst on every core. What fails here is undefined: `ingest` checks it
   * again and reports it. Callers may start this as soon as the bytes
   * arrive and hand the result to `ingestAll` later.
   */
  async checkSignatures(
    entries: readonly (readonly [string | undefined, Uint8Array])[],
  ): Promise<(Invocation | undefined)[]> {
    const validator = this.#authority.validator;
    // A large batch (a whole space opening) lets the event loop in between slices of work (pace.ts).
    const pacer = new Pacer(entries.length);
    const checking: Promise<Invocation | undefined>[] = [];
    for (const [cid, bytes] of entries) {
      // Awaited only when it is a turn: between turns every check is asked for at once, as one batch for the lanes.
      const turn = pacer.turn();
      if (turn) await turn;
      checking.push(
        cid !== undefined && this.#seen.has(cid)
          ? Promise.resolve(undefined)
          : validator.verifyInvocationSignature(bytes).catch(() => undefined),
      );
    }
    return Promise.all(checking);
  }

  /**
   * Check a batch of signed operations and add them in order; `checked`:
   * what `checkSignatures` gave for the same entries, if it was started
   * earlier.
   */
  ingestAll(
    entries: readonly (readonly [string | undefined, Uint8Array])[],
    checked?: Promise<(Invocation | undefined)[]>,
  ): Promise<Ingested[]> {
    return this.#announcingLate(async () => {
      const verified = await (checked ?? this.checkSignatures(entries));
      // In causal order (an operation is dated no earlier than what it follows), so none waits for a parent in the batch.
      const order = entries.map((_, i) => i).sort((a, b) => compareAt(verified[a], verified[b]));
      const out: Ingested[] = new Array(entries.length);
      const pacer = new Pacer(entries.length);
      for (const i of order) {
        await pacer.turn();
        out[i] = await this.#ingest(entries[i][1], entries[i][0], { checked: verified[i] });
      }
      return out;
    });
  }

  /**
   * Run ingests, then tell `onLate` at once of every waiting operation they
   * took up: in a sync message half the operations can arrive before a parent
   * in another bucket, and one announcement for all costs listeners less
   * than one each.
   */
  async #announcingLate<T>(work: () => Promise<T>): Promise<T> {
    this.#ingesting++;
    try {
      return await work();
    } finally {
      if (--this.#ingesting === 0 && this.#late.length > 0) {
        const late = this.#late;
        this.#late = [];
        this.#onLate?.(late);
      }
    }
  }

  /**
   * Check one signed operation and add it to the log. With `verdict`, the
   * caller learns at once whether it applied; without, reduction waits for
   * the next read, so a batch of operations costs one reduction.
   */
  ingest(
    bytes: Uint8Array,
    cid?: string,
    options: { verdict?: boolean; checked?: Invocation } = {},
  ): Promise<Ingested> {
    return this.#announcingLate(() => this.#ingest(bytes, cid, options));
  }

  async #ingest(
    bytes: Uint8Array,
    cid: string | undefined,
    options: { verdict?: boolean; checked?: Invocation },
  ): Promise<Ingested> {
    const validator = this.#authority.validator;
    // One that waited was decoded and checked already: take it up where it stopped.
    const waited = cid === undefined ? undefined : this.#waiting.get(cid);
    let inv = waited?.inv ?? options.checked;
    try {
      inv ??= await validator.verifyInvocationSignature(bytes);
    } catch (e) {
      return this.#refuse(cid ?? "?", undefined, e);
    }
    const id = inv.cid.toString();
    if (cid !== undefined && cid !== id) {
      return this.#refuse(cid, inv.iss, new UcanError("MalformedToken", `stored under ${cid} but its CID is ${id}`));
    }
    if (this.#seen.has(id) && !this.#waiting.has(id)) return { cid: id, status: "duplicate" };
    this.#seen.add(id);
    this.#waiting.delete(id);
    let parsed: LogEntry | undefined = waited;
    try {
      if (inv.sub !== this.space) {
        throw new UcanError("InvalidSubject", `this operation is for ${inv.sub}, not this space`);
      }
      parsed ??= this.parse(inv.cmd, inv.args, id, inv.iss);
    } catch (e) {
      return this.#refuse(id, inv.iss, e);
    }
    const { op, family, object } = parsed;
    const time = judgeTime(op.args.at[0], this.#now());
    if (!time.ok) {
      if ("refuse" in time) return this.#refuse(id, inv.iss, new UcanError("TooEarly", time.refuse), op);
      this.#wait(id, { bytes, inv, op, family, object });
      if (!this.#stopped) {
        const timer = setTimeout(() => {
          this.#timers.delete(timer);
          void this.#announcingLate(() => this.#retry(id));
        }, time.wait + 10);
        this.#timers.add(timer);
      }
      this.#diagnostics.count("ops.future");
      return {
        cid: id,
        status: "pending",
        reason: "dated ahead of this node's clock: waits until then",
        code: "op/future",
      };
    }
    const parents = op.args.after ?? [];
    const missing = this.#graph.missing(parents);
    if (missing.length > 0) {
      this.#wait(id, { bytes, inv, op, family, object });
      for (const p of missing) {
        const set = this.#orphans.get(p) ?? new Set<string>();
        set.add(id);
        this.#orphans.set(p, set);
      }
      this.#diagnostics.count("ops.pending");
      return {
        cid: id,
        status: "pending",
        reason: `waits for ${missing.length} earlier operation(s)`,
        code: "op/parents",
      };
    }
    for (const p of parents) {
      if (compareHlc((this.#graph.get(p) as { at: Hlc }).at, op.args.at) >= 0) {
        return this.#refuse(
          id,
          inv.iss,
          new UcanError("InvalidPayload", `dated no later than ${p}, which it says it follows`),
          op,
        );
      }
    }
    let principal: string;
    try {
      const { proofs } = await validator.validate(inv, {
        now: Math.floor(op.args.at[0] / 1000),
        ignoreRevocations: true,
      });
      principal = principalOf(inv.iss, proofs);
    } catch (e) {
      if (e instanceof UcanError && e.name === "UnavailableProof") {
        this.#wait(id, { bytes, inv, op, family, object });
        this.#diagnostics.count("ops.pending");
        return { cid: id, status: "pending", reason: e.message, code: e.code };
      }
      return this.#refuse(id, inv.iss, e, op);
    }
    let admitted = op;
    if (family.admit) {
      // What the operation carries that needs async checks of its own (a merge's signed run manifests).
      try {
        admitted = await family.admit(op, { validator });
      } catch (e) {
        return this.#refuse(id, inv.iss, e, op);
      }
    }
    this.#diagnostics.count("ops.verified");
    const entry: Entry = { op: admitted, family, object, proofs: inv.prf.map(cidKey), principal };
    this.#graph.add({ cid: id, at: op.args.at, author: op.author, parents });
    this.#byCid.set(id, entry);
    const at = this.#insert(entry);
    await this.#adopt(id);
    if (this.#graph.latest > this.#deadline) this.#rewindAll();
    if (at !== undefined && at === this.#applied && this.#applied === this.#valid.length - 1) {
      this.#reduce(); // in order: apply now, cheaply
    } else if (!options.verdict) {
      return { cid: id, status: "accepted", op, family: family.name, object };
    }
    this.#reduce();
    const outcome = this.#outcomes.get(id) as Outcome;
    if (!outcome.applied) this.#noteConflict(op, outcome.reason);
    return outcome.applied ? { cid: id, status: "applied", op, family: family.name, object } : {
      cid: id,
      status: "refused",
      reason: outcome.reason,
      code: outcome.code ?? "task/conflict",
      op,
      family: family.name,
      object,
    };
  }

  /** The family that owns `command` parses it into an operation (throws InvalidInput). */
  parse(command: string, args: unknown, cid: string, author: string): LogEntry {
    const family = this.#families.find((f) => f.owns(command));
    if (!family) throw new InvalidInput("cmd", `${command} is not an operation of this space's log`);
    const op = family.parse(command, args, cid, author);
    return { op, family, object: family.object(op) };
  }

  #wait(id: string, waiting: Waiting): void {
    if (this.#waiting.size >= MAX_WAITING) {
      const oldest = this.#waiting.keys().next().value as string;
      this.#waiting.delete(oldest);
      this.#seen.delete(oldest);
    }
    this.#waiting.set(id, waiting);
  }

  async #retry(id: string): Promise<void> {
    const waiting = this.#waiting.get(id);
    if (!waiting) return;
    const r = await this.#ingest(waiting.bytes, id, {});
    if (r.status !== "pending" && r.status !== "refused") {
      const e = this.#byCid.get(id);
      if (e) this.#late.push({ op: e.op, family: e.family, object: e.object });
    }
  }

  /** Operations that waited for `cid` as a parent: try them again. */
  async #adopt(cid: string): Promise<void> {
    const children = this.#orphans.get(cid);
    if (!children) return;
    this.#orphans.delete(cid);
    for (const child of children) await this.#retry(child);
  }

  /**
   * Add in (HLC, CID) order: at the end, returning its index, when it comes
   * after everything (the usual case live); otherwise set aside for #merge,
   * returning undefined.
   */
  #insert(entry: Entry): number | undefined {
    const last = this.#valid[this.#valid.length - 1];
    if (this.#unmerged.length === 0 && (last === undefined || compareOps(last.op, entry.op) < 0)) {
      this.#valid.push(entry);
      if (this.#touchesContested(entry)) this.#rewindAll();
      return this.#valid.length - 1;
    }
    this.#unmerged.push(entry);
    return undefined;
  }

  /**
   * Merge the operations set aside by #insert into #valid, and forget the
   * state from where the first of them lands (anything applied after it must
   * be redone), or all of it if one touches a contested object: what
   * inserting them one at a time would have done.
   */
  #merge(): void {
    if (this.#unmerged.length === 0) return;
    const added = this.#unmerged.sort((a, b) => compareOps(a.op, b.op));
    this.#unmerged = [];
    const old = this.#valid;
    const merged: Entry[] = new Array(old.length + added.length);
    let i = 0;
    let j = 0;
    let first = -1;
    for (let k = 0; k < merged.length; k++) {
      if (j < added.length && (i >= old.length || compareOps(added[j].op, old[i].op) < 0)) {
        if (first < 0) first = k;
        merged[k] = added[j++];
      } else merged[k] = old[i++];
    }
    this.#valid = merged;
    if (added.some((e) => this.#touchesContested(e))) this.#rewindAll();
    else if (first < this.#applied) this.#rewind(first);
  }

  /** Could this operation change a verdict that rests on witnesses (as a witness, or on a contested object)? */
  #touchesContested(e: Entry): boolean {
    return this.#contested.has(contestKey(e)) || e.op.args.at[0] <= this.#contestedUntil;
  }

  /** Forget the state after index `to`: back to the checkpoint if it is early enough, else to nothing. */
  #rewind(to: number): void {
    if (this.#checkpoint.at <= to && this.#superseded.size === 0) {
      this.#reducers = this.#fork(this.#checkpoint.reducers);
      this.#applied = this.#checkpoint.at;
    } else {
      this.#rewindAll();
    }
  }

  /** Reduce everything again from nothing, judging every lease and standing afresh. */
  #rewindAll(): void {
    this.#reducers = this.#freshReducers();
    this.#applied = 0;
    this.#checkpoint = { at: 0, reducers: this.#freshReducers() };
    this.#superseded.clear();
    this.#contested.clear();
    this.#contestedUntil = -Infinity;
    this.#deadline = Infinity;
    this.#revocationMarks.clear();
  }

  #applyNext(): Outcome {
    const e = this.#valid[this.#applied++];
    const outcome = this.#judge(e);
    this.#outcomes.set(e.op.cid, outcome);
    // Keep a checkpoint trailing the head, so most late arrivals replay a short tail.
    if (this.#superseded.size === 0 && this.#applied - this.#checkpoint.at >= 2 * CHECKPOINT_LAG) {
      this.#checkpoint = { at: this.#applied, reducers: this.#fork(this.#reducers) };
    }
    return outcome;
  }

  #judge(e: Entry): Outcome {
    const op = e.op;
    if (this.#superseded.has(op.cid)) {
      return { applied: false, reason: "superseded: a later claim had seen its lease lapse" };
    }
    const standing = judgeStanding(
      { cid: op.cid, at: op.args.at, author: op.author, proofs: e.proofs },
      this.#standing,
    );
    if (!standing.ok) {
      // A witness from before the deadline may still arrive: it would change this verdict.
      if (standing.deadline !== undefined) this.#contestedUntil = Math.max(this.#contestedUntil, standing.deadline);
      return { applied: false, reason: standing.reason };
    }
    if (standing.decideAfter !== undefined) this.#deadline = Math.min(this.#deadline, standing.decideAfter);
    return (this.#reducers.get(e.family.name) as FamilyReducer).apply(op, this.#context);
  }

  /** The budgets the delegations `proofs` set (ucan/budget.ts), each under its delegation's key. */
  #budgetsOf(proofs: readonly string[]): KeyedBudget[] {
    return proofs.flatMap((key) => {
      const d = this.#authority.delegationByKey(key);
      const budget = d && budgetOf(d.pol);
      return budget ? [{ key, budget }] : [];
    });
  }

  /** Bring the state up to date with every valid operation, settling what supersedes what. */
  #reduce(): void {
    this.#merge();
    for (let pass = 0; pass < MAX_PASSES; pass++) {
      let more = false;
      while (this.#applied < this.#valid.length) {
        const e = this.#valid[this.#applied];
        const outcome = this.#applyNext();
        if (!outcome.applied && outcome.contested) this.#contest(e);
        if (!outcome.applied && outcome.supersede) {
          const fresh = outcome.supersede.filter((c) => !this.#superseded.has(c));
          if (fresh.length > 0) {
            for (const c of fresh) this.#superseded.add(c);
            this.#contest(e);
            more = true;
          }
        }
      }
      if (!more) return;
      // Reduce again from nothing, setting aside what was superseded.
      const superseded = [...this.#superseded];
      const contested = [...this.#contested];
      const until = this.#contestedUntil;
      this.#rewindAll();
      for (const c of superseded) this.#superseded.add(c);
      for (const t of contested) this.#contested.add(t);
      this.#contestedUntil = until;
    }
    this.#diagnostics.count("ops.unsettled");
  }

  /** A verdict on this operation's object was settled by witnesses or superseding: later operations may change it. */
  #contest(e: Entry): void {
    this.#contested.add(contestKey(e));
    this.#contestedUntil = Math.max(this.#contestedUntil, e.op.args.at[0] + MAX_LEASE_MS + MAX_SKEW_MS);
  }

  /** Where the revocation of delegation `key` was made, as the revoker recorded it. */
  #revocationMark(key: string): RevocationMark | undefined {
    const cached = this.#revocationMarks.get(key);
    if (cached) return cached;
    const rev = this.#authority.revocationOf(key);
    if (!rev) return undefined;
    const position = revocationPosition(rev);
    if (!position) return { past: new Set() }; // no causal position: revokes everything
    const past = new Set<string>();
    for (const p of position.after) for (const c of this.#graph.past(p)) past.add(c);
    const { voidSince } = position;
    const mark: RevocationMark = { at: position.at[0], past, ...(voidSince ? { voidSince } : {}) };
    // Cache only once all of what the revoker had seen is known here.
    if (this.#graph.missing(position.after).length === 0) this.#revocationMarks.set(key, mark);
    return mark;
  }

  /**
   * Delegations or revocations changed: retry waiting operations and reduce
   * again from the start (standing is judged again).
   */
  revalidate(): Promise<void> {
    return this.#announcingLate(async () => {
      for (const id of [...this.#waiting.keys()]) {
        // An earlier one in this loop may have taken it up already (it waited for that one).
        const waiting = this.#waiting.get(id);
        if (!waiting) continue;
        this.#seen.delete(id);
        await this.#ingest(waiting.bytes, id, {});
      }
      this.#rewindAll();
    });
  }

  #noteConflict(op: LogOp, reason: string): void {
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

  #refuse(cid: string, from: string | undefined, e: unknown, op?: LogOp): Ingested {
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

/** An object, named across families. */
const contestKey = (e: LogEntry) => `${e.family.name}\n${e.object}`;
