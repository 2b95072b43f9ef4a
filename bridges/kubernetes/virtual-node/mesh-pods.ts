/**
 * A pod bound to the Weft virtual node, run as a container job of the mesh:
 * the kubernetes bridge creates a task carrying the pod's run spec in its
 * space, signed as itself (so its chain must cover /weft/task/create and
 * /weft/run/container there), and whichever member the mesh's scheduler
 * places it on runs it — not necessarily the peer hosting the bridge. The
 * task is keyed by the pod's uid, so a virtual node that restarts follows
 * the same job instead of making a second. Its log is read from the node
 * running it as it runs; its end comes from the task's signed result, and
 * its outputs from the run's manifest, fetched and verified (signature,
 * chain) and checked to be this task's run of this spec before any of it is
 * reported. Deleting the pod cancels the task, which stops the run.
 */
import { messageOf, WeftError } from "#protocol";
import type { BridgeContext, BridgeSpace } from "#protocol/bridge";
import { type LogLine, type OutputFile, type RunResult, type RunSpec, runSpecCid } from "#protocol/runner";
import { podOf, RunLog } from "#protocol/scheduler";
import { newTaskId } from "#protocol/space";
import type { Task } from "#protocol/tasks";
import type { PodRef, PodRunner } from "./virtual-node.ts";

export interface MeshPodsOptions {
  context: Pick<BridgeContext, "spaces" | "subscribe" | "runs">;
  /** The space (its name or DID) whose container jobs run the pods. */
  space: string;
  /** How long to wait before reading a log again that could not be read (not placed yet, its node unreachable). */
  retryMs?: number;
}

type Ended = "succeeded" | "failed" | "cancelled";

/** How long a job's log may still be arriving after its result is in (its node sends the last lines first). */
const LOG_GRACE_MS = 5_000;

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });

/** The space the pods go to, as the bridge holds it now; refused, saying what to grant, when it holds none there. */
export function podSpace(context: MeshPodsOptions["context"], space: string): BridgeSpace {
  const found = context.spaces().find((s) => s.id === space || s.name === space);
  if (!found) {
    throw new WeftError(
      "Unavailable",
      "kubernetes/unavailable",
      `the kubernetes bridge holds no delegation in space ${space}: grant it /weft/task/create, /weft/task/cancel ` +
        `and /weft/run/container there (weft bridge grant kubernetes --space ${space})`,
    );
  }
  return found;
}

/** Pods as the mesh's container jobs (see the module comment). */
export function meshPods(o: MeshPodsOptions): PodRunner {
  return {
    followsRestarts: true,
    start(spec, pod) {
      if (spec.runner !== "container") throw new TypeError(`a pod runs as a container job, not ${spec.runner}`);
      const space = podSpace(o.context, o.space);
      return new MeshPodRun(o, space, spec, pod);
    },
  };
}

class MeshPodRun {
  readonly id = newTaskId();
  readonly #o: MeshPodsOptions;
  readonly #space: BridgeSpace;
  readonly #spec: RunSpec;
  readonly #log = new RunLog();
  readonly #follow = new AbortController();
  readonly #created: Promise<string>;
  readonly #ended: Promise<Ended | undefined>;
  readonly done: Promise<RunResult>;
  readonly started: Promise<void>;
  readonly #startedAt = Date.now();
  #stopped = false;

  constructor(o: MeshPodsOptions, space: BridgeSpace, spec: RunSpec, pod: PodRef) {
    this.#o = o;
    this.#space = space;
    this.#spec = spec;
    this.#created = space.act("create", {
      task: this.id,
      title: `pod ${pod.namespace}/${pod.name}`.slice(0, 200),
      body: `Pod ${pod.namespace}/${pod.name} (uid ${pod.uid}), bound by the cluster to its Weft virtual node.`,
      labels: ["kubernetes-pod"],
      run: spec,
      review: false,
      // The same pod is the same job, whoever asks again (a restarted virtual node).
      idempotencyKey: `pod ${pod.uid}`,
    }).then((t) => t.id);
    this.#ended = this.#created.then((task) => this.#until(task, (t) => this.#over(t)), () => undefined);
    // Started when a member starts it (or it is over, or was never made): until then the pod is Pending.
    this.started = this.#created.then(
      (task) => this.#until(task, (t) => t.history.some((h) => h.kind === "start") || this.#over(t) ? true : undefined),
      () => undefined,
    ).then(() => {});
    this.done = Promise.all([this.#result(), this.#pumpLog()]).then(([r]) => {
      this.#log.end();
      return r;
    });
  }

  /** The job's task id, once it is made (the one already made for this pod, after a restart). */
  get job(): Promise<string> {
    return this.#created;
  }

  get logs(): AsyncIterable<LogLine> {
    return this.#log.read(true);
  }

  async stop(reason = "stopped"): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    const task = await this.#created.catch(() => undefined);
    const t = task ? this.#space.task(task) : undefined;
    if (t && !this.#over(t)) await this.#space.act("cancel", { task: t.id, body: reason }).catch(() => {});
    await this.done;
  }

  /** Succeeded, failed or cancelled, by the task's replicated state; undefined while it is not over. */
  #over(t: Task): Ended | undefined {
    if (!t.run) return undefined;
    const state = podOf(this.#space.id, t as Task & { run: RunSpec }, Date.now()).state;
    return state === "succeeded" || state === "failed" || state === "cancelled" ? state : undefined;
  }

  /**
   * The first of `test`'s answers for the task as its state changes;
   * undefined if the bridge loses access to the space first.
   */
  #until<T>(task: string, test: (t: Task) => T | undefined): Promise<T | undefined> {
    return new Promise((resolve) => {
      const check = () => {
        const t = this.#space.task(task);
        const found = t ? test(t) : undefined;
        if (found !== undefined) done(found);
      };
      const off = this.#o.context.subscribe((e) => {
        if (e.space === this.#space.id && e.type === "access" && !e.holds) done(undefined);
        if (e.space === this.#space.id && e.type === "tasks" && e.tasks.includes(task)) check();
      });
      const done = (found: T | undefined) => {
        off();
        resolve(found);
      };
      check();
    });
  }

  /**
   * Follow the run's log from the node running it, read again (skipping
   * what came) when it could not be read; once the job is over, what that
   * node still holds that the follow missed.
   */
  async #pumpLog(): Promise<void> {
    const runs = this.#o.context.runs;
    const task = await this.#created.catch(() => undefined);
    if (!runs || !task) return;
    let seen = 0;
    let problem = "";
    const read = async (follow: boolean, signal?: AbortSignal) => {
      let n = 0;
      for await (const line of runs.log(this.#space.id, task, follow, signal)) {
        if (n++ < seen) continue;
        this.#log.push(line);
        seen++;
      }
    };
    const following = (async () => {
      while (!this.#follow.signal.aborted) {
        const t = this.#space.task(task);
        if (t?.lease || (t && this.#over(t))) {
          try {
            return await read(true, this.#follow.signal);
          } catch (e) {
            problem = messageOf(e); // not placed yet, or its node not reachable now: try again
          }
        }
        await sleep(this.#o.retryMs ?? 500, this.#follow.signal);
      }
    })();
    await this.#ended;
    // A job no member ever claimed has no log anywhere.
    const placed = this.#space.task(task)?.history.some((h) => h.kind === "claim") ?? false;
    if (placed) await Promise.race([following, sleep(LOG_GRACE_MS)]);
    this.#follow.abort();
    await following;
    if (!placed) return;
    try {
      await read(false);
    } catch (e) {
      if (seen === 0) {
        this.#log.push({
          stream: "system",
          at: Date.now(),
          text: `the log could not be read: ${problem || messageOf(e)}`,
        });
      }
    }
  }

  /** What the run came to, from the task's result and its verified manifest. */
  async #result(): Promise<RunResult> {
    const failed = (status: RunResult["status"], reason: string): RunResult => ({
      status,
      reason,
      outputs: [],
      startedAt: this.#startedAt,
      endedAt: Date.now(),
    });
    let task: string;
    try {
      task = await this.#created;
    } catch (e) {
      return failed("error", `the job could not be created in space ${this.#space.name}: ${messageOf(e)}`);
    }
    const over = await this.#ended;
    const t = this.#space.task(task);
    if (!over || !t) return failed("error", `the bridge lost access to space ${this.#space.name}`);
    if (over === "cancelled") return failed("stopped", "the job was cancelled");
    const result = t.results.at(-1)!;
    const exit = result.exitCode !== undefined ? { exitCode: result.exitCode } : {};
    const startedAt = [...t.history].reverse().find((h) => h.kind === "start")?.at[0] ?? this.#startedAt;
    if (!result.manifest) {
      return { ...failed(over === "succeeded" ? "succeeded" : "failed", result.summary ?? ""), ...exit, startedAt };
    }
    try {
      const m = await this.#o.context.runs!.manifest(this.#space.id, result.manifest);
      if (m.task !== task || m.space !== this.#space.id || m.spec !== runSpecCid(this.#spec).toString()) {
        throw new Error(`it is the manifest of another run (task ${m.task}, spec ${m.spec})`);
      }
      const outputs: OutputFile[] = m.outputs.map(({ path, size, sha256, cid }) => ({ path, size, sha256, cid }));
      return {
        status: m.status,
        ...(m.exitCode !== undefined ? { exitCode: m.exitCode } : {}),
        ...(result.summary ? { reason: result.summary } : {}),
        outputs,
        startedAt: m.startedAt,
        endedAt: m.endedAt,
      };
    } catch (e) {
      return failed("error", `the run's manifest ${result.manifest} did not verify: ${messageOf(e)}`);
    }
  }
}
