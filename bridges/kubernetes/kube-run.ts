/**
 * One run as a Kubernetes Job, from spec to result. It makes the Job named
 * by the run's key, and follows the one a previous process made when that
 * create is a 409 (a restart never makes a second Job); the namespace's
 * baseline policy cuts the pod off unless the run's egress was opened. It
 * follows the Job and its pod, streams the pod's log into the run's log,
 * ends the run when the Job completes or fails, its wall time passes or it
 * is stopped, reads the outputs a Weft virtual node reports (each checked
 * against the store), and deletes the Job (and its egress policy). A run
 * that asks for an editor gets its pod once its Job exists, and loses it
 * when the run ends (editor/editors.ts).
 */
import { PassThrough } from "node:stream";
import * as k8s from "@kubernetes/client-node";
import type { V1Job, V1Pod } from "@kubernetes/client-node";
import { messageOf } from "#protocol";
import type { ContentStore, OutputFile, RunHandle, RunJob, RunResult, RunSpec } from "#protocol/runner";
import { type RunOutcome, settleRun } from "#protocol/runner";
import { LogChannel } from "../../wasm-runners/core/log-channel.ts";
import { splitLines } from "../containers/lines.ts";
import { apiError, call, type Cluster, statusOf } from "./cluster.ts";
import type { KubernetesConfig } from "./config.ts";
import { CONTAINER, egressPolicy, jobManifest, jobName, runKey } from "./job-manifest.ts";
import { checkedOutputs, currentPod, terminatedOf } from "./pod-result.ts";
import type { Editors } from "./editor/editors.ts";

/** How long the pod's log may go on after its Job ended. */
const LOG_DRAIN_MS = 10_000;

export interface KubeRunContext {
  cluster: Cluster;
  config: KubernetesConfig;
  /** How often the Job and its pod are read while it runs. */
  pollMs: number;
  /** The namespace's baseline NetworkPolicy is in place (made on the first call, then cached). */
  baseline(): Promise<void>;
  /** The editors of runs that ask for one. */
  editors: Editors;
  /** The run's pod was bound to a node: the cluster's spare capacity changed. */
  placed(): void;
  ended(run: KubeRun): void;
}

export class KubeRun implements RunHandle {
  readonly id: string;
  readonly logs: LogChannel = new LogChannel();
  readonly done: Promise<RunResult>;
  readonly #spec: RunSpec;
  readonly #specCid: string;
  readonly #store: ContentStore;
  readonly #ctx: KubeRunContext;
  readonly #job?: RunJob;
  /** The run's key (computed once: a run outside the scheduler gets a fresh one each time it is computed). */
  readonly #key: string;
  readonly #name: string;
  #stopReason?: string;
  #wake?: () => void;
  #logBytes = 0;
  #placed = false;
  /** The pod whose log is being read. */
  #followed?: string;
  /**
   * The pod's log being read: resolves when it ends. It is never aborted (client-node's log
   * stream throws an aborted request's error where no one can catch it): it ends when the
   * pod does, and lines after the run settled are dropped.
   */
  #following?: Promise<void>;

  constructor(spec: RunSpec, specCid: string, store: ContentStore, ctx: KubeRunContext, job?: RunJob) {
    this.#spec = spec;
    this.#specCid = specCid;
    this.#store = store;
    this.#ctx = ctx;
    if (job) this.#job = job;
    this.#key = runKey(specCid, job);
    this.id = this.#key;
    this.#name = jobName(this.#key);
    this.done = settleRun(this.#run(), Date.now(), this.logs).then((result) => {
      ctx.ended(this);
      return result;
    });
  }

  /** The Job's name in the runner's namespace. */
  get jobName(): string {
    return this.#name;
  }

  async stop(reason = "stopped on request"): Promise<void> {
    if (this.#stopReason === undefined) {
      this.#stopReason = reason;
      this.#wake?.();
    }
    await this.done;
  }

  #system(text: string): void {
    this.logs.push({ stream: "system", at: Date.now(), text });
  }

  get #ns(): string {
    return this.#ctx.config.namespace;
  }

  async #run(): Promise<RunOutcome> {
    try {
      const job = await this.#findOrCreate();
      if (this.#spec.editor === true) {
        const editor = await this.#ctx.editors.open(this.#spec, job, this.#key, this.#job);
        this.#system(`editor pod ${editor.namespace}/${editor.pod} made for the task's holder and reviewers`);
      }
      return await this.#follow(job);
    } finally {
      await this.#ctx.editors.close(this.#key, (text) => this.#system(text));
      await this.#remove();
    }
  }

  /**
   * The run's Job: a new one, or — when a previous process made it (a
   * restart; the create is a 409 on its name) — that one. The namespace's
   * baseline policy is in place first (made once per runner), so a run
   * without the network costs one call before its pod exists; one that may
   * have the network has its egress opened before its Job is made.
   */
  async #findOrCreate(): Promise<V1Job> {
    const { batch, networking } = this.#ctx.cluster;
    await this.#ctx.baseline();
    if (this.#spec.network === true) {
      try {
        await networking.createNamespacedNetworkPolicy({
          namespace: this.#ns,
          body: egressPolicy(this.#key, this.#ctx.config, this.#job),
        });
      } catch (e) {
        if (statusOf(e) !== 409) throw apiError("creating the run's egress NetworkPolicy", e);
      }
    }
    try {
      const made = await batch.createNamespacedJob({
        namespace: this.#ns,
        body: jobManifest(this.#spec, this.#specCid, this.#key, this.#ctx.config, this.#job),
      });
      this.#system(`created Job ${this.#ns}/${this.#name}`);
      return made;
    } catch (e) {
      if (statusOf(e) !== 409) throw apiError(`creating Job ${this.#ns}/${this.#name}`, e);
      this.#system(`following Job ${this.#ns}/${this.#name}, made for this run before`);
      return await call("reading the Job", () => batch.readNamespacedJob({ name: this.#name, namespace: this.#ns }));
    }
  }

  /** Sleep until the next poll, a stop or the deadline. */
  #pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  async #follow(job: V1Job): Promise<RunOutcome> {
    const { batch, core } = this.#ctx.cluster;
    const { wallMs } = this.#spec.limits;
    const created = job.metadata?.creationTimestamp ? new Date(job.metadata.creationTimestamp).getTime() : Date.now();
    const deadline = created + wallMs;
    const wallTime: RunOutcome = {
      status: "timeout",
      reason: `exceeded its ${wallMs} ms wall-time limit`,
      outputs: [],
    };
    for (;;) {
      if (this.#stopReason !== undefined) return { status: "stopped", reason: this.#stopReason, outputs: [] };
      if (Date.now() >= deadline) return wallTime;
      const [current, pods] = await Promise.all([
        call("reading the Job", () => batch.readNamespacedJob({ name: this.#name, namespace: this.#ns })),
        call(
          "listing the Job's pods",
          () => core.listNamespacedPod({ namespace: this.#ns, labelSelector: `job-name=${this.#name}` }),
        ),
      ]);
      const pod = currentPod(pods.items);
      if (pod?.spec?.nodeName && !this.#placed) {
        this.#placed = true;
        this.#ctx.placed();
      }
      if (pod && pod.status?.phase !== "Pending" && pod.metadata?.name !== this.#followed) {
        if (this.#followed) {
          this.#system(`pod ${this.#followed} was replaced by ${pod.metadata?.name} (its node was lost)`);
        }
        this.#followLogs(pod);
      }
      if (this.#logBytes > this.#spec.limits.outputBytes) {
        return {
          status: "output-limit",
          reason: `its logs passed its ${this.#spec.limits.outputBytes}-byte output limit`,
          outputs: [],
        };
      }
      const conditions = current.status?.conditions ?? [];
      const complete = conditions.find((c) => c.type === "Complete" && c.status === "True");
      const failed = conditions.find((c) => c.type === "Failed" && c.status === "True");
      if (complete || failed) {
        if (failed?.reason === "DeadlineExceeded") return wallTime;
        return await this.#finished(pod, complete !== undefined, failed?.message);
      }
      await this.#pause(Math.min(this.#ctx.pollMs, Math.max(0, deadline - Date.now())));
    }
  }

  /** Stream the pod's log into the run's log (stdout: the API merges the two streams). */
  #followLogs(pod: V1Pod): void {
    this.#followed = pod.metadata?.name;
    const stream = new PassThrough();
    this.#following = splitLines(
      stream,
      (text) => this.logs.push({ stream: "stdout", at: Date.now(), text }),
      (n) => this.#logBytes += n,
    );
    new k8s.Log(this.#ctx.cluster.kc)
      .log(this.#ns, pod.metadata?.name ?? "", CONTAINER, stream, { follow: true })
      .catch((e) => {
        this.#system(`the pod's log could not be read: ${messageOf(e)}`);
        stream.end();
      });
  }

  /** The Job ended: the pod's exit, its log read to the end, its outputs checked. */
  async #finished(pod: V1Pod | undefined, complete: boolean, message?: string): Promise<RunOutcome> {
    const latest = pod?.metadata?.name
      ? await call(
        "reading the pod",
        () => this.#ctx.cluster.core.readNamespacedPod({ name: pod.metadata!.name!, namespace: this.#ns }),
      ).catch(() => pod)
      : pod;
    if (latest && latest.metadata?.name !== this.#followed) this.#followLogs(latest);
    await this.#logsRead();
    const ended = terminatedOf(latest, this.#spec);
    if (ended.status !== "succeeded" && ended.status !== "failed") return ended;
    if (!complete) {
      return { ...ended, status: "failed", reason: ended.reason ?? `the Job failed: ${message ?? "no reason given"}` };
    }
    const outputs = await checkedOutputs(latest, this.#store, this.#spec.limits.outputBytes - this.#logBytes);
    if ("over" in outputs) return { status: "output-limit", reason: outputs.over, outputs: [] };
    if ("invalid" in outputs) return { status: "error", reason: outputs.invalid, outputs: [] };
    return { ...ended, outputs: outputs.files as OutputFile[] };
  }

  /** Wait for the pod's log to end, a little: a log endpoint that never closes does not hold the result up. */
  async #logsRead(): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const read = this.#following ?? Promise.resolve();
    const late = new Promise<"late">((r) => timer = setTimeout(() => r("late"), LOG_DRAIN_MS));
    if (await Promise.race([read, late]) === "late") {
      this.#system(`the pod's log did not end within ${LOG_DRAIN_MS} ms of the Job; the rest is not kept`);
    }
    clearTimeout(timer);
  }

  /** Delete the Job (its pods with it) and the run's egress policy, if it had one; already gone is fine. */
  async #remove(): Promise<void> {
    const { batch, networking } = this.#ctx.cluster;
    const gone = (e: unknown) => {
      if (statusOf(e) !== 404) this.#system(`could not delete ${this.#ns}/${this.#name}: ${messageOf(e)}`);
    };
    await batch.deleteNamespacedJob({ name: this.#name, namespace: this.#ns, propagationPolicy: "Background" })
      .catch(gone);
    if (this.#spec.network === true) {
      await networking.deleteNamespacedNetworkPolicy({ name: this.#name, namespace: this.#ns }).catch(gone);
    }
  }
}
