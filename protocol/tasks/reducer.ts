/**
 * The deterministic reduction of a space's task operations.
 *
 * Operations are applied in (HLC, CID) order; the state that results
 * depends only on the set of operations, never on arrival order or local
 * clocks, so every node that holds the same operations agrees. An
 * operation that does not fit the state it lands on (a claim on a task
 * another lease holds, a result with a stale fencing token, a dependency
 * that would close a cycle, …) is refused with a reason, and changes
 * nothing.
 *
 * Leases are judged causally, not by the claimant's clock alone: a claim
 * lands if the task is open, or if the lease it replaces — as the claimant
 * had seen it (its causal past) — had lapsed by the claim's time. What the
 * old holder did under that lease that the claimant had not seen (a late
 * renewal, a result back-dated into the lease) is superseded: a result with
 * a lower fence than a valid later claim never counts. Two concurrent claims
 * with the same fence resolve to the one another node built on first (its
 * witness time), then to the first in (HLC, CID) order — so back-dating a
 * claim does not displace a holder the mesh has already seen. Superseding
 * needs a second pass: the reducer names what to set aside (`supersede`),
 * and the log reduces again without it.
 *
 * Agents' spending and pauses are reduced alongside, in spend.ts: a paused
 * agent's operations after its pause are refused (all but the receipts of
 * calls it had in flight), and a reservation that a budget in its chain
 * has no room for is refused.
 *
 * An agent's job with network, and its reservation past the space's
 * spending threshold, pass the approval gates first (approvals/gate.ts).
 *
 * `fork()` makes a cheap copy-on-write snapshot, so the log can rewind to a
 * recent checkpoint when an operation arrives out of order instead of
 * reducing everything again.
 */
import { compareHlc } from "./hlc.ts";
import type { Causality, FamilyReducer, Outcome, ReduceContext } from "./family.ts";
import type { TaskOp } from "./ops.ts";
import { type Task, TERMINAL } from "./state.ts";
import { pausedReason, SpendLedger } from "./spend.ts";
import { approvalRefusal } from "../approvals/gate.ts";

const OK: Outcome = { applied: true };
const refuse = (reason: string): Outcome => ({ applied: false, reason });
const verdict = (v: { ok: true } | { ok: false; reason: string }): Outcome => v.ok ? OK : refuse(v.reason);

/** With no graph, arrival order is causal order and nothing is witnessed: the reducer on its own. */
const SEQUENTIAL: Causality = { precedes: () => true, witnessTime: () => Infinity };
/** What the task reducer reads of the log: the graph, and (for reservations) the budgets of an operation's chain. */
export type TaskContext =
  & Causality
  & Partial<Pick<ReduceContext, "budgetsOf" | "isAgent" | "reducer" | "principalOf">>;

const LEASE_KINDS = new Set(["claim", "renew", "start", "result", "release"]);

export class TaskReducer implements FamilyReducer<TaskOp> {
  readonly tasks: Map<string, Task>;
  /** Reverse dependency edges: task -> tasks that depend on it. */
  readonly #dependents: Map<string, Set<string>>;
  /** Idempotency keys in use: `creator\nkey` -> task id. */
  readonly #keys: Map<string, string>;
  /** Tasks this reducer may change in place; others are shared with a fork and copied first. */
  #owned = new WeakSet<Task>();
  /** What agents reserved and spent, and which are paused. */
  readonly spend: SpendLedger;

  constructor(
    tasks = new Map<string, Task>(),
    dependents = new Map<string, Set<string>>(),
    keys = new Map<string, string>(),
    spend = new SpendLedger(),
  ) {
    this.tasks = tasks;
    this.#dependents = dependents;
    this.#keys = keys;
    this.spend = spend;
  }

  /** A snapshot that evolves independently; both copy a task before changing it. */
  fork(): TaskReducer {
    this.#owned = new WeakSet();
    const deps = new Map<string, Set<string>>();
    for (const [k, v] of this.#dependents) deps.set(k, new Set(v));
    return new TaskReducer(new Map(this.tasks), deps, new Map(this.#keys), this.spend.fork());
  }

  /** The task `creator` made with idempotency key `key`, if any. */
  byIdempotencyKey(creator: string, key: string): Task | undefined {
    const id = this.#keys.get(`${creator}\n${key}`);
    return id === undefined ? undefined : this.tasks.get(id);
  }

  /** The task, made safe to change in place. */
  #own(id: string): Task | undefined {
    const task = this.tasks.get(id);
    if (!task || this.#owned.has(task)) return task;
    const copy: Task = {
      ...task,
      labels: [...task.labels],
      deps: [...task.deps],
      results: [...task.results],
      comments: [...task.comments],
      history: [...task.history],
      ...(task.lease ? { lease: { ...task.lease } } : {}),
    };
    this.tasks.set(id, copy);
    this.#owned.add(copy);
    return copy;
  }

  /** True when every dependency of `task` is done. */
  depsDone(task: Task): boolean {
    return task.deps.every((d) => this.tasks.get(d)?.status === "done");
  }

  dependentsOf(id: string): ReadonlySet<string> {
    return this.#dependents.get(id) ?? new Set();
  }

  /** Would adding `from` → `to` (from depends on to) close a cycle? */
  #wouldCycle(from: string, to: string): boolean {
    const stack = [to];
    const seen = new Set<string>();
    while (stack.length > 0) {
      const id = stack.pop() as string;
      if (id === from) return true;
      if (seen.has(id)) continue;
      seen.add(id);
      for (const d of this.tasks.get(id)?.deps ?? []) stack.push(d);
    }
    return false;
  }

  #link(from: string, to: string): void {
    let set = this.#dependents.get(to);
    if (!set) this.#dependents.set(to, set = new Set());
    set.add(from);
  }

  #unlink(from: string, to: string): void {
    this.#dependents.get(to)?.delete(from);
  }

  /**
   * Apply one operation. A reservation draws on the budgets in its chain,
   * which the log reads from its delegations (`context.budgetsOf`); with no
   * log, it draws on none.
   */
  apply(op: TaskOp, context: TaskContext = SEQUENTIAL): Outcome {
    const at = op.args.at;
    if (op.kind === "witness") return OK; // anchors others' operations in time; changes no task
    if (op.kind === "pause") {
      this.spend.pause(op);
      return OK;
    }
    if (op.kind === "resume") return verdict(this.spend.resume(op));
    const paused = this.spend.paused(op.author);
    // Two operations of a paused agent still land, as they give power back rather than use it: a receipt (it
    // records money a call in flight spent, and enables nothing) and a release (the task is free for others at
    // once, instead of when the lease lapses). Every node reduces the same, so all accept both.
    if (paused && op.kind !== "settle" && op.kind !== "release") return refuse(pausedReason(op.author, paused));
    if (op.kind === "create") {
      const a = op.args;
      if (this.tasks.has(a.task)) return refuse(`task ${a.task} already exists`);
      const gated = a.run?.network === true
        ? approvalRefusal(context, op, { kind: "network", program: a.run.program })
        : undefined;
      if (gated) return gated;
      const key = a.idempotencyKey === undefined ? undefined : `${op.author}\n${a.idempotencyKey}`;
      if (key !== undefined && this.#keys.has(key)) {
        return refuse(`idempotency key ${a.idempotencyKey} was already used for task ${this.#keys.get(key)}`);
      }
      const deps = [...new Set(a.deps ?? [])];
      for (const d of deps) {
        if (d === a.task) return refuse("a task cannot depend on itself");
        if (!this.tasks.has(d)) return refuse(`dependency ${d} does not exist`);
      }
      const created: Task = {
        id: a.task,
        title: a.title,
        body: a.body ?? "",
        creator: op.author,
        createdAt: at,
        updatedAt: at,
        status: "open",
        labels: [...new Set(a.labels ?? [])].sort(),
        deps,
        requirements: a.requirements ?? {},
        review: a.review ?? false,
        ...(a.idempotencyKey !== undefined ? { idempotencyKey: a.idempotencyKey } : {}),
        ...(a.run !== undefined ? { run: a.run } : {}),
        fence: 0,
        results: [],
        comments: [],
        history: [{ op: op.cid, kind: op.kind, author: op.author, at }],
      };
      this.tasks.set(a.task, created);
      this.#owned.add(created);
      if (key !== undefined) this.#keys.set(key, a.task);
      for (const d of deps) this.#link(a.task, d);
      return OK;
    }

    const task = this.#own(op.args.task);
    if (!task) return refuse(`task ${op.args.task} does not exist`);
    const named = (op.args as { labels?: string[] }).labels?.find((l) => !task.labels.includes(l));
    if (named !== undefined) return refuse(`names label ${named}, which task ${task.id} does not carry`);
    const outcome = op.kind === "claim"
      ? this.#claim(task, op, context)
      : op.kind === "reserve"
      ? this.#reserve(op, context)
      : op.kind === "settle"
      ? verdict(this.spend.settle(op))
      : this.#applyTo(task, op, context.principalOf?.(op) ?? op.author);
    if (outcome.applied) {
      if (compareHlc(at, task.updatedAt) > 0) task.updatedAt = at;
      const a = op.args as { fence?: number; expires?: number };
      task.history.push({
        op: op.cid,
        kind: op.kind,
        author: op.author,
        at,
        ...(a.fence !== undefined ? { fence: a.fence } : {}),
        ...(a.expires !== undefined ? { expires: a.expires } : {}),
      });
    }
    return outcome;
  }

  /** A reservation: through the spending gate (approvals/gate.ts), then against every budget in its chain. */
  #reserve(op: Extract<TaskOp, { kind: "reserve" }>, context: TaskContext): Outcome {
    const s = this.spend.agent(op.author);
    const to = s.spent.usd + s.reserved.usd + op.args.usd;
    return approvalRefusal(context, op, { kind: "spend", to }) ??
      verdict(this.spend.reserve(op, context.budgetsOf?.(op) ?? []));
  }

  /** The last claim applied to `task`, if any. */
  #lastClaim(task: Task) {
    for (let i = task.history.length - 1; i >= 0; i--) if (task.history[i].kind === "claim") return task.history[i];
    return undefined;
  }

  #claim(task: Task, op: Extract<TaskOp, { kind: "claim" }>, causal: Causality): Outcome {
    const now = op.args.at[0];
    const fence = op.args.fence;
    const last = this.#lastClaim(task);
    const prev = last && { ...last, fence: last.fence as number };
    if (prev && fence === prev.fence && prev.author !== op.author) {
      // Two claims of the same fence. One made after seeing the other is stale.
      if (causal.precedes(prev.op, op.cid)) {
        return refuse(
          task.lease?.fence === fence
            ? `task is held by ${prev.author} (fence ${fence})`
            : `stale claim: fence ${fence}, expected ${task.fence + 1}`,
        );
      }
      // Concurrent: the one built on first by someone else wins; back-dating does not help.
      const exclude = [prev.author, op.author];
      const mine = causal.witnessTime(op.cid, exclude);
      const theirs = causal.witnessTime(prev.op, exclude);
      if (mine < theirs) {
        return {
          applied: false,
          reason: `concurrent claim of fence ${fence}: this one was witnessed first`,
          supersede: this.#unseenLeaseOps(task, fence, op.cid, causal, true),
        };
      }
      return {
        applied: false,
        reason:
          `task is held by ${prev.author} (fence ${fence}): of concurrent claims, the one witnessed first wins, ` +
          "then the earlier",
        contested: true,
      };
    }
    if (fence !== task.fence + 1) return refuse(`stale claim: fence ${fence}, expected ${task.fence + 1}`);
    if (prev) {
      if (!causal.precedes(prev.op, op.cid)) {
        return refuse(`stale claim: made without seeing the lease it replaces (fence ${prev.fence})`);
      }
      // The lease as the claimant saw it: its grants and whether it had ended.
      let known = -Infinity;
      let ended = false;
      for (const h of task.history) {
        if (h.fence !== prev.fence || !causal.precedes(h.op, op.cid)) continue;
        if (h.expires !== undefined) known = Math.max(known, h.expires);
        if (h.kind === "result" || h.kind === "release") ended = true;
      }
      if (!ended && known >= now) return refuse(`task is held by ${prev.author} (fence ${prev.fence})`);
      // Whatever the old holder did that the claimant had not seen is superseded.
      const unseen = this.#unseenLeaseOps(task, prev.fence, op.cid, causal, false);
      if (unseen.length > 0) {
        return {
          applied: false,
          reason: `the lease of fence ${prev.fence} had lapsed when fence ${fence} was claimed`,
          supersede: unseen,
        };
      }
    }
    if (TERMINAL.has(task.status)) return refuse(`task is ${task.status}`);
    if (task.status === "review") return refuse("task is in review");
    if (!this.depsDone(task)) return refuse("dependencies are not done");
    task.fence = fence;
    task.lease = { holder: op.author, fence, expires: op.args.expires, claimedAt: op.args.at };
    task.assignee = op.author;
    task.status = "claimed";
    return OK;
  }

  /** Lease operations of `fence` not in the causal past of `cid` (with `all`, every one of that fence). */
  #unseenLeaseOps(task: Task, fence: number, cid: string, causal: Causality, all: boolean): string[] {
    return task.history
      .filter((h) => h.fence === fence && LEASE_KINDS.has(h.kind) && (all || !causal.precedes(h.op, cid)))
      .map((h) => h.op);
  }

  /** `principal`: whom `op` counts for (its author, or the person a bridge acted for; ucan/principal.ts). */
  #applyTo(
    task: Task,
    op: Exclude<TaskOp, { kind: "create" | "claim" | "witness" | "pause" | "resume" | "reserve" | "settle" }>,
    principal: string,
  ): Outcome {
    const terminal = TERMINAL.has(task.status);
    const now = op.args.at[0];
    switch (op.kind) {
      case "edit": {
        const a = op.args;
        if (a.title !== undefined) task.title = a.title;
        if (a.body !== undefined) task.body = a.body;
        if (a.requirements !== undefined) task.requirements = a.requirements;
        if (a.review !== undefined) task.review = a.review;
        return OK;
      }
      case "label": {
        const labels = new Set(task.labels);
        for (const l of op.args.remove ?? []) labels.delete(l);
        for (const l of op.args.add ?? []) labels.add(l);
        task.labels = [...labels].sort();
        return OK;
      }
      case "dependency": {
        const { add, remove } = op.args;
        if (add !== undefined) {
          if (add === task.id) return refuse("a task cannot depend on itself");
          if (!this.tasks.has(add)) return refuse(`dependency ${add} does not exist`);
          if (task.deps.includes(add)) return refuse(`already depends on ${add}`);
          if (this.#wouldCycle(task.id, add)) return refuse(`depending on ${add} would make a cycle`);
          task.deps = [...task.deps, add];
          this.#link(task.id, add);
        } else if (remove !== undefined) {
          if (!task.deps.includes(remove)) return refuse(`does not depend on ${remove}`);
          task.deps = task.deps.filter((d) => d !== remove);
          this.#unlink(task.id, remove);
        }
        return OK;
      }
      case "comment":
        task.comments.push({
          id: op.cid,
          author: principal,
          ...(principal === op.author ? {} : { signer: op.author }),
          at: op.args.at,
          body: op.args.body,
        });
        return OK;
      case "renew":
      case "release":
      case "start":
      case "result": {
        const lease = task.lease;
        if (!lease || (task.status !== "claimed" && task.status !== "running")) {
          return refuse(`task is ${task.status}, not held`);
        }
        if (op.args.fence !== lease.fence || op.author !== lease.holder) {
          return refuse(`fencing token ${op.args.fence} by ${op.author} is not the current lease (${lease.fence})`);
        }
        if (op.kind === "renew") {
          if (lease.expires < now) return refuse("the lease had already lapsed");
          lease.expires = Math.max(lease.expires, op.args.expires);
        } else if (op.kind === "release") {
          task.lease = undefined;
          task.status = "open";
        } else if (op.kind === "start") {
          if (task.status !== "claimed") return refuse("already running");
          task.status = "running";
        } else {
          const a = op.args;
          task.results.push({
            op: op.cid,
            by: op.author,
            at: a.at,
            fence: a.fence,
            outcome: a.outcome,
            ...(a.manifest !== undefined ? { manifest: a.manifest } : {}),
            ...(a.summary !== undefined ? { summary: a.summary } : {}),
            ...(a.exitCode !== undefined ? { exitCode: a.exitCode } : {}),
          });
          task.lease = undefined;
          task.status = a.outcome === "failure" ? "failed" : task.review ? "review" : "done";
        }
        return OK;
      }
      case "review":
        if (task.status !== "review") return refuse(`task is ${task.status}, not in review`);
        task.status = op.args.verdict === "approve" ? "done" : "open";
        return OK;
      case "close":
        if (terminal) return refuse(`task is already ${task.status}`);
        task.lease = undefined;
        task.status = op.args.outcome;
        return OK;
      case "cancel":
        if (terminal) return refuse(`task is already ${task.status}`);
        task.lease = undefined;
        task.status = "cancelled";
        return OK;
    }
  }
}
