/**
 * The scheduler every node runs: it watches its spaces for tasks that ask
 * for compute, places every waiting job the way every other node does
 * (placement.ts, `assign`: oldest first, each to the best node with a slot
 * left), and claims at once the jobs placed on it, marks them running and
 * hands their run specs to a runner. A job placed on another node that is
 * still open after `fallbackMs` (that node is gone, stalled, or sees the
 * mesh differently) is claimed by the others in their rank order, each
 * `backoffMs` behind the one before.
 *
 * The lease is the truth: the holder renews it while the job runs (the
 * renewal is gossiped), and stops the job the moment the task says it no
 * longer holds it — cancelled (evicted), or a concurrent claim that won on
 * merge. A node that dies stops renewing; its lease lapses, the task reads
 * as open again and is placed elsewhere with a higher fencing token, so a
 * late result from the dead holder is refused: exactly one result counts.
 * On a clean stop, jobs are stopped and their leases released so they are
 * placed again at once. A lease left behind by a process that died is not
 * released on restart but left to lapse: the job may be what killed it.
 * A job whose claims lapsed `maxCrashes` times is quarantined (crashes.ts):
 * the next node that would claim it marks it failed instead.
 * A job whose creator does not hold /weft/run/<kind> (run-authority.ts) is
 * neither placed nor started: the node that would rank first for it says
 * why in a comment, once, and it runs if the creator is delegated the right.
 * The kill switch reaches running jobs the same way: once the space shows a
 * job's creator paused (an agent), or no longer holding the right to run it
 * (revoked, expired), the node running it stops it within the event that
 * brought the record — offline-first, from the record alone — and records
 * the run as failed, stopped, with why.
 *
 * Over ~400 lines, on purpose: placing, claiming, running and finishing a
 * job are one state machine over the same run table; what can stand alone
 * already does (placement.ts, crashes.ts, run-authority.ts, compute.ts).
 */
import type { LiveAdvert } from "../capacity/advert.ts";
import type { Diagnostics } from "../diagnostics.ts";
import type { Signer } from "../identity/ed25519.ts";
import type { OpArgs, OpKind } from "../tasks/ops.ts";
import type { Space } from "../space/space.ts";
import { effectiveStatus } from "../tasks/query.ts";
import type { Task } from "../tasks/state.ts";
import type { ContentStore, PreparedRun, RunHandle, Runner, RunResult, RunSpec } from "../runner/runner.ts";
import { lapsedClaims, quarantineNote } from "./crashes.ts";
import { assign, needOf, rankOf, type WaitingJob } from "./placement.ts";
import { compareHlc } from "../tasks/hlc.ts";
import { TERMINAL } from "../tasks/state.ts";
import { creatorStopped, RefusalNotes, RunRightsCache } from "./run-authority.ts";
import { RunLog } from "./run-log-buffer.ts";

export type LocalRunState = "claiming" | "running" | "finishing" | "done";

/** A run on this node. */
export interface LocalRun {
  space: string;
  task: string;
  /** The fencing token of this node's lease (0 while claiming). */
  fence: number;
  spec: RunSpec;
  state: LocalRunState;
  /** Unix ms. */
  startedAt?: number;
  endedAt?: number;
  result?: RunResult;
  /** Whether the mesh accepted this run's result. */
  accepted?: boolean;
  /** Why it was stopped or its result not accepted. */
  reason?: string;
  /** Stopped by the kill switch (its creator paused or revoked): the stop is recorded as its result. */
  recordStop?: boolean;
  log: RunLog;
}

export interface SchedulerOptions {
  /** Whose runs these are: this node's DID, or that of `as`. */
  did: string;
  /**
   * Claim, start, renew and record runs as this principal held on the node
   * (a bridge running jobs as its own DID, under its own delegation) instead
   * of the node itself.
   */
  as?: Signer;
  spaces(): Space[];
  /** Live capacity adverts in a space, this node's own included. */
  adverts(space: string): LiveAdvert[];
  runners: Runner[];
  store: ContentStore;
  /** Jobs this node runs at once. */
  slots: number;
  now?: () => number;
  /** Lease length; renewed every third of it. Default 30 s. */
  leaseMs?: number;
  /**
   * A job whose claims ended without a result this many times (see
   * crashes.ts) is quarantined instead of claimed again: marked failed, with
   * a comment saying why. Default 2.
   */
  maxCrashes?: number;
  /** How long each rank waits behind the one before it, once a job placed elsewhere is left open. Default 250 ms. */
  backoffMs?: number;
  /**
   * How long a job placed on another node may stay open before the others
   * claim it in rank order: longer than a claim takes to reach them, or they
   * race the node it was placed on. Default 2 s.
   */
  fallbackMs?: number;
  /** How often every task is looked at again (lapsed leases, new nodes). Default 1 s. */
  sweepMs?: number;
  /** Log bytes kept per run for streaming. Default 1 MiB. */
  logBytes?: number;
  /** Keep a finished run's outputs; resolves to the manifest CID recorded in the result. */
  publish?(run: LocalRun, result: RunResult): Promise<string | undefined>;
  /** This node's free slots changed: re-advertise. */
  capacityChanged?(): void;
  diagnostics?: Diagnostics;
}

/** Ranks beyond this wait no longer than it. */
const MAX_RANK_WAIT = 20;
/** Finished runs remembered for `weft pods` and their logs. */
const RECENT_RUNS = 200;

const keyOf = (space: string, task: string) => `${space}/${task}`;

export class Scheduler {
  readonly #o: SchedulerOptions;
  readonly #now: () => number;
  readonly #leaseMs: number;
  readonly #backoffMs: number;
  readonly #fallbackMs: number;
  readonly #runners = new Map<string, Runner>();
  /** Runs here now, including claims in flight. */
  readonly #runs = new Map<string, LocalRun>();
  readonly #handles = new Map<string, RunHandle>();
  readonly #flows = new Map<string, Promise<void>>();
  readonly #recent = new Map<string, LocalRun>();
  /** When this node first saw each task runnable, and the timer for its turn. */
  readonly #waiting = new Map<
    string,
    { since: number; timer?: ReturnType<typeof setTimeout>; due?: number; rewaited?: boolean }
  >();
  readonly #unsubscribe = new Map<string, () => void>();
  /** Per space: the tasks that are jobs and not finished (the ones placement looks at). */
  readonly #jobs = new Map<string, Set<string>>();
  /** Per space: where every waiting job goes, until a task or an advert changes. */
  readonly #plans = new Map<string, { adverts: string; assigned: Map<string, string> }>();
  /** Leases this process claimed (`space/task#fence`): any other lease it holds was left by a previous run that died. */
  readonly #claimedHere = new Set<string>();
  readonly #refusals: RefusalNotes;
  readonly #rights = new RunRightsCache();
  #sweepTimer?: ReturnType<typeof setInterval>;
  #running = false;

  constructor(options: SchedulerOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#leaseMs = options.leaseMs ?? 30_000;
    this.#backoffMs = options.backoffMs ?? 250;
    this.#fallbackMs = options.fallbackMs ?? 2000;
    this.#refusals = new RefusalNotes(options.as);
    for (const r of options.runners) this.#runners.set(r.kind, r);
  }

  get slots(): number {
    return this.#o.slots;
  }

  /** Jobs running or being claimed here. */
  get running(): number {
    return this.#runs.size;
  }

  get free(): number {
    return Math.max(0, this.#o.slots - this.#runs.size);
  }

  /** Runner kinds this node serves. */
  get kinds(): string[] {
    return [...this.#runners.keys()];
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#sweepTimer = setInterval(() => this.sweep(), this.#o.sweepMs ?? 1000);
    this.sweep();
  }

  /** This node's runs: current ones, then recently finished ones. */
  runs(): LocalRun[] {
    return [...this.#runs.values(), ...[...this.#recent.values()].reverse()];
  }

  run(space: string, task: string): LocalRun | undefined {
    const key = keyOf(space, task);
    return this.#runs.get(key) ?? this.#recent.get(key);
  }

  /** Look at every task again: claim what is ours to claim, release leases with no job behind them. */
  sweep(): void {
    if (!this.#running) return;
    for (const space of this.#o.spaces()) {
      this.#watch(space);
      this.#checkCreators(space); // delegations expire without an event
      const jobs = new Set<string>();
      this.#jobs.set(space.id, jobs);
      this.#plans.delete(space.id); // leases lapse with time, without an event
      for (const task of space.log.reducer.tasks.values()) {
        // A finished task this node still runs stays in view, so the sweep stops it even if its event was missed.
        if (task.run && (!TERMINAL.has(task.status) || this.#runs.has(keyOf(space.id, task.id)))) jobs.add(task.id);
      }
      // The jobs placed here first, oldest first; then the rest, within a budget, for their fallback turn.
      for (const [id, node] of this.#plan(space)) {
        if (this.free === 0) break;
        const task = space.log.reducer.tasks.get(id);
        if (node === this.#o.did && task) this.#consider(space, task);
      }
      let budget = 4 * this.free + 16;
      for (const id of jobs) {
        const task = space.log.reducer.tasks.get(id) as Task;
        if (this.#mine(space, task)) this.#checkHeld(space, task);
        else if (budget > 0 && this.#consider(space, task)) budget--;
      }
    }
  }

  /**
   * Where every waiting job of `space` goes, as every node that holds the
   * same tasks and adverts places them (placement.ts, `assign`). Computed
   * again once a task or an advert changed.
   */
  #plan(space: Space): Map<string, string> {
    const adverts = this.#o.adverts(space.id);
    const signature = adverts.map((a) => `${a.node}@${a.at}`).join(" ");
    const cached = this.#plans.get(space.id);
    if (cached?.adverts === signature) return cached.assigned;
    const now = this.#now();
    const reducer = space.log.reducer;
    const held = new Map<string, number>();
    const waiting: (WaitingJob & { task: Task })[] = [];
    const jobs = this.#jobs.get(space.id) ?? new Set();
    for (const id of jobs) {
      const task = reducer.tasks.get(id);
      if (!task?.run || TERMINAL.has(task.status)) continue;
      const status = effectiveStatus(task, now);
      if (status === "claimed" || status === "running") {
        const holder = task.lease!.holder;
        held.set(holder, (held.get(holder) ?? 0) + 1);
      } else if (
        status === "open" && reducer.depsDone(task) &&
        creatorStopped(space, task as Task & { run: RunSpec }, now, this.#rights) === undefined
      ) {
        waiting.push({ id, need: needOf(task), task });
      }
    }
    waiting.sort((a, b) => compareHlc(a.task.createdAt, b.task.createdAt) || (a.id < b.id ? -1 : 1));
    const assigned = assign(waiting, adverts, held);
    this.#plans.set(space.id, { adverts: signature, assigned });
    return assigned;
  }

  #watch(space: Space): void {
    if (this.#unsubscribe.has(space.id)) return;
    this.#unsubscribe.set(
      space.id,
      space.subscribe((e) => {
        if (!this.#running) return;
        if (e.type === "agents" || e.type === "members") return this.#checkCreators(space);
        if (e.type === "creating") {
          // A task made here and still being written: a claim made now is written with it, in one flush. It is
          // placed with the others now, not at the `tasks` event that follows the write.
          this.#plans.delete(space.id);
          const jobs = this.#jobs.get(space.id);
          for (const id of e.tasks) {
            const task = space.log.reducer.tasks.get(id);
            if (!task?.run) continue;
            jobs?.add(id);
            if (!this.#mine(space, task)) this.#consider(space, task);
          }
          return;
        }
        if (e.type !== "tasks") return;
        this.#plans.delete(space.id);
        const jobs = this.#jobs.get(space.id);
        for (const id of e.tasks) {
          const task = space.log.reducer.tasks.get(id);
          if (!task?.run) continue;
          if (!TERMINAL.has(task.status)) jobs?.add(id);
          if (this.#mine(space, task)) this.#checkHeld(space, task);
          else this.#consider(space, task);
        }
      }),
    );
  }

  /** Whether `task` is this node's to look after: it runs it, or holds a lease on it that has not lapsed. */
  #mine(space: Space, task: Task): boolean {
    if (this.#runs.has(keyOf(space.id, task.id))) return true;
    return task.lease?.holder === this.#o.did && effectiveStatus(task, this.#now()) !== "open";
  }

  /** Adverts with this node's own slot count as of now (its advert may be a little stale). */
  #adverts(space: string): LiveAdvert[] {
    return this.#o.adverts(space).map((a) =>
      a.node === this.#o.did ? { ...a, slots: this.free, running: this.#runs.size } : a
    );
  }

  /**
   * Should this node take `task`, and when? Sets a timer for its turn.
   * Returns whether the task was runnable (and so counted against the sweep's budget).
   */
  #consider(space: Space, task: Task): boolean {
    const key = keyOf(space.id, task.id);
    const now = this.#now();
    const runnable = effectiveStatus(task, now) === "open" && space.log.reducer.depsDone(task) &&
      !this.#runs.has(key);
    if (!runnable) {
      this.#forget(key);
      return false;
    }
    const need = needOf(task as Task & { run: RunSpec });
    if (!this.#runners.has(need.runner ?? "")) return true;
    const refusal = creatorStopped(space, task as Task & { run: RunSpec }, now, this.#rights);
    if (refusal !== undefined) {
      this.#forget(key);
      // The node that would rank first for it says why.
      if (rankOf(task.id, need, this.#adverts(space.id), this.#o.did) === 0) {
        this.#refusals.note(space, task, refusal, this.#o.diagnostics);
      }
      return false;
    }
    if (this.free === 0) return true;
    if (this.#plan(space).get(task.id) === this.#o.did) {
      this.#forget(key);
      void this.#claim(space, task.id);
      return true;
    }
    // Placed on another node (or on none, as this node sees the mesh): its turn comes after the fallback wait.
    const rank = rankOf(task.id, need, this.#adverts(space.id), this.#o.did);
    if (rank < 0) return true;
    const waiting = this.#waiting.get(key) ?? { since: now };
    this.#waiting.set(key, waiting);
    const due = waiting.since + this.#fallbackMs + Math.min(rank, MAX_RANK_WAIT) * this.#backoffMs;
    if (due <= now) {
      this.#forget(key);
      void this.#claim(space, task.id);
    } else if (waiting.due !== due) {
      clearTimeout(waiting.timer);
      waiting.due = due;
      waiting.timer = setTimeout(() => {
        waiting.timer = undefined;
        const late = this.#now() - (waiting.due ?? 0);
        waiting.due = undefined;
        if (late > this.#backoffMs && !waiting.rewaited) {
          // This node was stalled: a better-ranked node's claim may be queued behind the stall, unread.
          // Wait its turn again from now, once, rather than claim alongside every other stalled node.
          waiting.rewaited = true;
          waiting.since = this.#now();
        }
        const t = space.log.reducer.tasks.get(task.id);
        if (t && this.#running) this.#consider(space, t);
      }, due - now);
    }
    return true;
  }

  #forget(key: string): void {
    const w = this.#waiting.get(key);
    if (w) clearTimeout(w.timer);
    this.#waiting.delete(key);
  }

  /** One task operation, signed as whoever runs the jobs here (the node, or `as`). */
  #act<K extends OpKind>(space: Space, kind: K, args: Omit<OpArgs<K>, "at">): Promise<unknown> {
    const as = this.#o.as;
    return as ? space.actAs(as, kind, args) : space.act(kind, args);
  }

  async #claim(space: Space, taskId: string): Promise<void> {
    const key = keyOf(space.id, taskId);
    const task = space.log.reducer.tasks.get(taskId);
    if (!task?.run || this.#runs.has(key) || this.free === 0) return;
    if (creatorStopped(space, task as Task & { run: RunSpec }, this.#now()) !== undefined) return;
    const lapsed = lapsedClaims(task, this.#now());
    if (lapsed >= (this.#o.maxCrashes ?? 2)) return await this.#quarantine(space, taskId, lapsed);
    const runner = this.#runners.get(needOf(task).runner ?? "") as Runner;
    const run: LocalRun = {
      space: space.id,
      task: taskId,
      fence: 0,
      spec: task.run,
      state: "claiming",
      log: new RunLog(this.#o.logBytes),
    };
    this.#runs.set(key, run);
    this.#o.capacityChanged?.();
    const flow = this.#flow(space, run, runner).finally(() => {
      this.#flows.delete(key);
      this.#runs.delete(key);
      this.#recent.delete(key);
      this.#recent.set(key, run);
      if (this.#recent.size > RECENT_RUNS) this.#recent.delete(this.#recent.keys().next().value as string);
      this.#o.capacityChanged?.();
      // A slot is free: someone else's queued task may be ours now.
      if (this.#running) queueMicrotask(() => this.sweep());
    });
    this.#flows.set(key, flow);
    await flow;
  }

  /** Mark a job that keeps taking its nodes down failed, saying why, instead of claiming it. */
  async #quarantine(space: Space, taskId: string, lapsed: number): Promise<void> {
    this.#o.diagnostics?.count("scheduler.quarantined");
    try {
      await this.#act(space, "comment", { task: taskId, body: quarantineNote(lapsed) });
      await this.#act(space, "close", { task: taskId, outcome: "failed", body: quarantineNote(lapsed) });
    } catch {
      // Another node closed it first, or this one may not: either way it is not claimed here.
    }
  }

  async #flow(space: Space, run: LocalRun, runner: Runner): Promise<void> {
    const key = keyOf(run.space, run.task);
    const d = this.#o.diagnostics;
    const job = { space: run.space, task: run.task };
    // The run is made ready (its source, its limits, its first process held) while its claim is signed and made
    // durable; it is let go only once the claim is.
    let prepared: PreparedRun | undefined;
    try {
      prepared = runner.prepare?.(run.spec, this.#o.store, job);
    } catch {
      // A spec the runner refuses: start() refuses it too, and says why.
    }
    try {
      const claimed = await space.claim(run.task, this.#leaseMs, this.#o.as);
      run.fence = claimed.lease?.fence ?? 0;
      this.#claimedHere.add(`${key}#${run.fence}`);
      if (await this.#refusedAtStart(space, run)) {
        await prepared?.cancel(run.reason ?? "refused");
        return;
      }
    } catch (e) {
      d?.count("scheduler.claims-lost");
      run.state = "done";
      run.reason = `not claimed: ${(e as Error).message}`;
      run.accepted = false;
      await prepared?.cancel(run.reason);
      return;
    }
    // The job starts while its `start` is written (one signed, durable write less before the first line);
    // a `start` the space refuses stops it, as a lost lease does. The result is signed after the start.
    const started = this.#act(space, "start", { task: run.task, fence: run.fence });
    d?.count("scheduler.runs-started");
    run.state = "running";
    run.startedAt = this.#now();
    const handle = prepared ? prepared.start() : runner.start(run.spec, this.#o.store, job);
    this.#handles.set(key, handle);
    started.catch((e) => {
      d?.count("scheduler.starts-refused");
      void this.#stop(key, `not started: ${(e as Error).message}`);
    });
    // The task may have changed while we were claiming (cancelled, or a rival claim merged in).
    const latest = space.log.reducer.tasks.get(run.task);
    if (latest) this.#checkHeld(space, latest);
    const pump = (async () => {
      for await (const line of handle.logs) run.log.push(line);
    })().catch(() => {});
    const renewal = setInterval(() => {
      space.renew(run.task, run.fence, this.#leaseMs, this.#o.as).catch((e) => {
        d?.count("scheduler.renewals-refused");
        void this.#stop(key, `lost the lease: ${(e as Error).message}`);
      });
    }, Math.max(50, Math.floor(this.#leaseMs / 3)));
    let result: RunResult;
    try {
      result = await handle.done;
      await pump;
    } finally {
      clearInterval(renewal);
      this.#handles.delete(key);
      run.log.end();
    }
    run.result = result;
    run.endedAt = result.endedAt;
    await started.catch(() => {});
    if (run.reason !== undefined) {
      // Stopped because the task is no longer ours: there is no result to report. Killed: say so in the task.
      run.state = "done";
      run.accepted = false;
      if (run.recordStop) await this.#recordStopped(space, run, result);
      return;
    }
    run.state = "finishing";
    let outcome: "success" | "failure" = result.status === "succeeded" ? "success" : "failure";
    let summary = describe(result);
    let manifest: string | undefined;
    try {
      manifest = await this.#o.publish?.(run, result);
    } catch (e) {
      outcome = "failure";
      summary = `${summary}; its outputs could not be kept: ${(e as Error).message}`.slice(0, 4000);
    }
    try {
      await this.#act(space, "result", {
        task: run.task,
        fence: run.fence,
        outcome,
        summary,
        ...(result.exitCode !== undefined ? { exitCode: result.exitCode } : {}),
        ...(manifest !== undefined ? { manifest } : {}),
      });
      run.accepted = true;
      d?.count(`scheduler.results.${outcome}`);
    } catch (e) {
      run.accepted = false;
      run.reason = `result not accepted: ${(e as Error).message}`;
      d?.count("scheduler.results-refused");
    }
    run.state = "done";
  }

  /** Record a killed job in its task: a failed result whose summary says who stopped it and why. */
  async #recordStopped(space: Space, run: LocalRun, result: RunResult): Promise<void> {
    try {
      await this.#act(space, "result", {
        task: run.task,
        fence: run.fence,
        outcome: "failure",
        summary: `${run.reason}; ${describe(result)}`.slice(0, 4000),
        ...(result.exitCode !== undefined ? { exitCode: result.exitCode } : {}),
      });
      this.#o.diagnostics?.count("scheduler.runs-killed");
    } catch (e) {
      run.reason = `${run.reason}; the stop could not be recorded: ${(e as Error).message}`;
    }
  }

  /**
   * The last word before a claimed job starts: its creator's right may have
   * been revoked while this node claimed it. If so, the run ends refused,
   * saying why, and the lease is given back.
   */
  async #refusedAtStart(space: Space, run: LocalRun): Promise<boolean> {
    const task = space.log.reducer.tasks.get(run.task);
    const refusal = task?.run && creatorStopped(space, task as Task & { run: RunSpec }, this.#now());
    if (!refusal) return false;
    run.state = "done";
    run.reason = `refused: ${refusal}`;
    run.accepted = false;
    this.#refusals.note(space, task!, refusal, this.#o.diagnostics);
    await this.#act(space, "release", { task: run.task, fence: run.fence }).catch(() => {});
    return true;
  }

  /** A task this node holds, or runs, changed: stop the job if the task is no longer ours. */
  #checkHeld(space: Space, task: Task): void {
    const key = keyOf(space.id, task.id);
    const run = this.#runs.get(key);
    if (!run) {
      // A lease this process claimed for a run that never began: give it back. One left by an earlier
      // process that died is left to lapse, so that the crash counts against the job (see crashes.ts).
      const lease = task.lease;
      if (
        lease && (task.status === "claimed" || task.status === "running") && lease.expires >= this.#now() &&
        !this.#flows.has(key) && this.#claimedHere.has(`${key}#${lease.fence}`)
      ) {
        this.#act(space, "release", { task: task.id, fence: lease.fence }).catch(() => {});
      }
      return;
    }
    if (run.state !== "running") return;
    if (task.status === "cancelled") void this.#stop(key, "evicted: the task was cancelled");
    else if (task.lease?.holder !== this.#o.did || task.lease.fence !== run.fence) {
      const holder = task.lease ? `${task.lease.holder} (fence ${task.lease.fence})` : "nobody";
      void this.#stop(key, `lost the lease: it is held by ${holder}`);
    } else if (task.status !== "running" && task.status !== "claimed") {
      void this.#stop(key, `the task is ${task.status}`);
    }
  }

  /** A pause, resume or revocation arrived: stop the jobs here whose creators may no longer have them run. */
  #checkCreators(space: Space): void {
    for (const run of this.#runs.values()) {
      if (run.space !== space.id || run.state !== "running") continue;
      const task = space.log.reducer.tasks.get(run.task);
      const why = task && creatorStopped(space, task as Task & { run: RunSpec }, this.#now());
      if (why) void this.#stop(keyOf(run.space, run.task), `stopped: ${why}`, { record: true });
    }
  }

  /**
   * Stop a job. With `record`, this node still holds the lease and says so
   * in the task: the run ends as a failure whose summary is the reason.
   */
  async #stop(key: string, reason: string, options: { record?: boolean } = {}): Promise<void> {
    const run = this.#runs.get(key);
    if (!run || run.reason !== undefined) return;
    run.reason = reason;
    if (options.record) run.recordStop = true;
    this.#o.diagnostics?.count("scheduler.runs-stopped");
    await this.#handles.get(key)?.stop(reason);
  }

  /** Stop every job, release its lease so it is placed again at once, and stop scheduling. */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    clearInterval(this.#sweepTimer);
    for (const key of [...this.#waiting.keys()]) this.#forget(key);
    for (const unsubscribe of this.#unsubscribe.values()) unsubscribe();
    this.#unsubscribe.clear();
    const held = [...this.#runs.values()];
    await Promise.all(held.map((r) => this.#stop(keyOf(r.space, r.task), "the node is stopping")));
    await Promise.all([...this.#flows.values()]);
    const spaces = new Map(this.#o.spaces().map((s) => [s.id, s]));
    await Promise.all(
      held.filter((r) => r.fence > 0 && spaces.has(r.space)).map((r) =>
        this.#act(spaces.get(r.space)!, "release", { task: r.task, fence: r.fence }).catch(() => {})
      ),
    );
  }
}

/** A run's outcome for people, as recorded in the task's result. */
export function describe(result: RunResult): string {
  const seconds = ((result.endedAt - result.startedAt) / 1000).toFixed(1);
  const outputs = result.outputs.length === 1 ? "1 output" : `${result.outputs.length} outputs`;
  const exit = result.exitCode !== undefined ? ` with exit code ${result.exitCode}` : "";
  const why = result.reason ? `: ${result.reason}` : "";
  return `${result.status}${exit} in ${seconds} s, ${outputs}${why}`.slice(0, 4000);
}
