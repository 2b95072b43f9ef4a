/**
 * The agent loop: a person delegates a task to an agent and gets a patch.
 * One pass (`runOnce`) claims an eligible task as the agent (its labels, a
 * repository), checks out the base in a working tree, builds a context pack,
 * and asks the model through the router — every call reserving and settling
 * against the agent's budget on that task (routerBudget) — for one tool call
 * per turn: read, search, edit, run the tests (a container job on the mesh,
 * network off), finish. It iterates until the tests pass and the model
 * finishes, or a turn, time or money limit is hit. Then it pushes the tested
 * commit (authored as the agent) to `refs/heads/agent/<name>/<task>` signed
 * by the agent's key, stores the transcript as an artifact, and proposes a
 * patch whose signed provenance names model, provider, tokens, cost and the
 * transcript. On failure it comments on the task with what it tried and
 * releases it. Pausing or revoking the agent aborts the model call and the
 * wait for its tests at once (its kill switch).
 *
 * Its claim is a short lease it renews while it works (task-lease.ts); the
 * moment the lease is no longer its, the pass stops. Where the space's
 * gates hold a step back (a job with network, the push, spending past a
 * threshold), it asks a person and waits for the signed answer
 * (gated-steps.ts); a denial ends the pass like a failure. Comments people
 * add to the task meanwhile are read into its next turn (new-comments.ts).
 */
import { WeftError } from "#protocol";
import { routerBudget } from "#protocol/agents";
import type { ChatMessage, LlmRouter } from "#protocol/llm";
import type { WeftNode } from "#protocol/node";
import { PATCH_FAMILY, type PatchReducer } from "#protocol/patch";
import type { Scheduler } from "#protocol/scheduler";
import type { Space } from "#protocol/space";
import type { ArtifactService } from "../../artifacts/service.ts";
import type { PeerLlm } from "../../llm/start.ts";
import type { RepoService } from "../../repo/repo-service.ts";
import type { PeerAgents } from "../peer-agents.ts";
import { contextPack } from "./context.ts";
import { GatedSteps } from "./gated-steps.ts";
import { NewComments } from "./new-comments.ts";
import { TaskLease } from "./task-lease.ts";
import { changed, end, LoopEnded, type LoopStatus, onChange, say, statusView, timed } from "./loop-status.ts";
import { pickTask } from "./pick-task.ts";
import { proposePatch } from "./propose-patch.ts";
import { runTests, type TestRunResult } from "./test-runs.ts";
import { parseTestsSpec, TESTS_SPEC_PATH } from "./test-spec.ts";
import { describeCall, parseToolCall, TOOL_HELP, type ToolCall } from "./tool-calls.ts";
import { Workspace } from "./workspace.ts";

export interface LoopLimits {
  /** Model calls per task. */
  turns: number;
  /** Wall time per task, tests included. */
  wallMs: number;
  /** Output tokens per model call. */
  outputTokens: number;
  /** The context pack's size. */
  contextTokens: number;
  /** The lease on the task, renewed every third of it while the loop works (`[agents] lease_seconds`). */
  leaseMs: number;
}

export const DEFAULT_LIMITS: LoopLimits = {
  turns: 24,
  wallMs: 20 * 60_000,
  outputTokens: 4096,
  contextTokens: 6000,
  leaseMs: 60_000,
};

/** The router's task kind for agents' calls (`[llm.routes] agent = […]`, else `default`). */
export const AGENT_TASK_KIND = "agent";

export interface AgentLoopDeps {
  node: WeftNode;
  agents: PeerAgents;
  llm?: PeerLlm;
  repos: RepoService;
  artifacts: ArtifactService;
  scheduler?: Scheduler;
  /** The limits a pass runs under unless its caller says otherwise (the lease: `[agents] lease_seconds`). */
  limits?: LoopLimits;
}

const SYSTEM = `You are a coding agent working on one task in a git repository. Each answer is exactly one JSON \
object calling one tool; you then see its result. Tools:
${TOOL_HELP}
Make the smallest change that solves the task, run the tests, and finish only once they pass.`;

export class AgentLoops {
  readonly #d: AgentLoopDeps;
  readonly #status = new Map<string, LoopStatus>();
  /** Who watches each agent's loop (its live transcript's followers). */
  readonly #watchers = new Map<string, Set<() => void>>();
  /** The lease each agent's pass in flight holds. */
  readonly #leases = new Map<string, TaskLease>();

  constructor(deps: AgentLoopDeps) {
    this.#d = deps;
  }

  /** The limits a pass runs under by default on this peer. */
  get limits(): LoopLimits {
    return this.#d.limits ?? DEFAULT_LIMITS;
  }

  /** What agent `name`'s loop is doing or last did on this peer. */
  status(name: string): LoopStatus | undefined {
    const s = this.#status.get(name);
    const lease = this.#leases.get(name);
    return s && { ...statusView(s), ...(lease ? { lease: { fence: lease.fence, expires: lease.expires } } : {}) };
  }

  /** Agent `name`'s pass in flight or last, as it is (not a copy): for watchers, who only read it. */
  current(name: string): Readonly<LoopStatus> | undefined {
    return this.#status.get(name);
  }

  /** Call `listener` on every change of agent `name`'s loop, a new pass included; returns the unwatch. */
  watch(name: string, listener: () => void): () => void {
    const set = this.#watchers.get(name) ?? new Set();
    this.#watchers.set(name, set.add(listener));
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.#watchers.get(name) === set) this.#watchers.delete(name);
    };
  }

  #changed(name: string): void {
    for (const listener of [...this.#watchers.get(name) ?? []]) listener();
  }

  /**
   * One pass of agent `name`: the first eligible task to a proposed patch,
   * or a comment and release. `stop` (the daemon stopping) ends it like a
   * failure: the task is given back, saying why.
   */
  async runOnce(name: string, limits: LoopLimits = this.limits, stop?: AbortSignal): Promise<LoopStatus> {
    if (this.#status.get(name)?.step !== undefined && this.#status.get(name)!.step !== "ended") {
      throw new WeftError("AgentBusy", "task/conflict", `agent ${name} is already working on a task on this peer`);
    }
    const status: LoopStatus = {
      agent: name,
      step: "claiming",
      turn: 0,
      startedAt: Date.now(),
      timings: {},
      transcript: [],
    };
    this.#status.set(name, status);
    onChange(status, () => this.#changed(name));
    this.#changed(name);
    try {
      return await this.#pass(name, status, limits, stop);
    } catch (e) {
      if (status.step !== "ended") end(status, { kind: "failed", reason: e instanceof Error ? e.message : String(e) });
      throw e;
    }
  }

  async #pass(name: string, status: LoopStatus, limits: LoopLimits, stop?: AbortSignal): Promise<LoopStatus> {
    const { agents, node } = this.#d;
    const record = await agents.require(name);
    const space = node.space(record.space);
    if (!space) throw new WeftError("NotFound", "not-found", `this peer is not in space ${record.space}`);
    if (!this.#d.llm) {
      throw new WeftError("LlmError", "llm/no-route", "this peer has no [llm] section: configure a model for agents");
    }
    const kill = agents.kill(space, record.did);
    const why = kill.stopped();
    if (why) return end(status, { kind: "stopped", reason: why });
    const picked = pickTask(space, record);
    if (!picked) return end(status, { kind: "idle", reason: "no open task carries this agent's labels" });
    status.task = picked.task.id;
    const signer = await agents.signer(name);
    const labels = picked.task.labels.filter((l) => record.labels.includes(l));
    // A task it still holds (this peer restarted mid-task) is taken up again under the same lease.
    const lease = await timed(
      status,
      "claiming",
      () =>
        picked.held
          ? TaskLease.adopt(space, signer, picked.task, labels, limits.leaseMs)
          : TaskLease.claim(space, signer, picked.task, labels, limits.leaseMs),
    );
    this.#leases.set(name, lease);
    const fence = lease.fence;
    const tried: string[] = [];
    const deadline = AbortSignal.timeout(limits.wallMs);
    const signal = AbortSignal.any([kill.signal, deadline, lease.signal, ...(stop ? [stop] : [])]);
    const gated = new GatedSteps(agents, space, name, status, signal);
    let work: Workspace | undefined;
    try {
      const bare = await this.#d.repos.repos.existing(space.id, picked.repo);
      if (!bare) throw new LoopEnded(`this peer holds no copy of repository ${picked.repo} yet`);
      work = await Workspace.open(bare, picked.base, { name: record.name, did: record.did });
      const spec = parseTestsSpec(
        await work.read(TESTS_SPEC_PATH).catch(() => {
          throw new LoopEnded(`repository ${picked.repo} has no ${TESTS_SPEC_PATH} naming how to run its tests`);
        }),
      );
      const patches = [...space.log.state<PatchReducer>(PATCH_FAMILY).patches.values()];
      const heard = new NewComments(space, picked.task.id, record.did);
      const context = await contextPack(space, picked.task, patches, work, limits.contextTokens);
      const spendPlan = (to: number) => ({
        kind: "spend" as const,
        upToUsd: Math.max(to, record.budget.usd ?? 0),
        plan: {
          step: "spend on model calls",
          agent: `${record.name} (${record.did})`,
          task: `${picked.task.id}: ${picked.task.title}`,
          spentAndReservedMicroUsd: to,
          upToMicroUsd: Math.max(to, record.budget.usd ?? 0),
        },
      });
      const approveSpend = (to: number) => gated.approval({ kind: "spend", to }, () => spendPlan(to));
      const spending = await agents.spending(space, name, picked.task.id, approveSpend);
      const router = this.#d.llm.withBudget(routerBudget(spending));
      const messages: ChatMessage[] = [{ role: "system", content: SYSTEM }, { role: "user", content: context }];
      for (const m of messages) say(status, { ...m, at: Date.now() });
      const usage = { inputTokens: 0, outputTokens: 0, costMicroUsd: 0, model: "", provider: "" };
      let passed: TestRunResult | undefined;
      let dirty = true;
      while (true) {
        if (status.turn >= limits.turns) throw new LoopEnded(`reached its limit of ${limits.turns} model calls`);
        status.turn++;
        const answer = await timed(status, "thinking", () => ask(router, messages, limits, signal));
        usage.inputTokens += answer.usage.inputTokens;
        usage.outputTokens += answer.usage.outputTokens;
        usage.costMicroUsd += answer.costMicroUsd;
        usage.model = answer.model;
        usage.provider = answer.provider;
        messages.push({ role: "assistant", content: answer.text });
        say(status, {
          role: "assistant",
          content: answer.text,
          at: Date.now(),
          turn: status.turn,
          usage: {
            inputTokens: answer.usage.inputTokens,
            outputTokens: answer.usage.outputTokens,
            costMicroUsd: answer.costMicroUsd,
            model: answer.model,
            provider: answer.provider,
          },
        });
        let call: ToolCall;
        let result: string;
        try {
          call = parseToolCall(answer.text);
          tried.push(describeCall(call));
          if (call.tool === "give_up") throw new LoopEnded(`the model gave up: ${call.reason}`);
          if (call.tool === "finish") {
            if (passed && !dirty) {
              return await proposePatch(
                this.#d,
                space,
                signer,
                record,
                picked,
                work,
                passed,
                call.summary,
                usage,
                status,
                lease,
                labels,
                gated,
              );
            }
            result = "Not finished: run_tests must pass on the tree as it is now before you finish.";
          } else if (call.tool === "run_tests") {
            const commit = await work.snapshot(picked.task.title);
            const approval = spec.network
              ? await gated.approval({ kind: "network", program: spec.image }, () => ({
                kind: "network",
                program: spec.image,
                plan: {
                  step: "run the repository's tests with the network on",
                  agent: `${record.name} (${record.did})`,
                  task: `${picked.task.id}: ${picked.task.title}`,
                  repository: picked.repo,
                  image: spec.image,
                  command: spec.command,
                  from: `${TESTS_SPEC_PATH} at ${picked.base}`,
                },
              }))
              : undefined;
            const run = await timed(
              status,
              "testing",
              () =>
                runTests(
                  { ...this.#d, space },
                  signer,
                  work!.dir,
                  commit,
                  spec,
                  signal,
                  (job) => {
                    status.job = job;
                    changed(status);
                  },
                  approval,
                ),
            );
            passed = run.passed ? run : undefined;
            dirty = false;
            tried.push(`tests ${run.state} (run ${run.task})`);
            result = `Tests ${run.passed ? "PASSED" : "FAILED"} (${run.state}). Log tail:\n${run.log}`;
          } else {
            result = await timed(status, "editing", () => use(work!, call));
            if (call.tool === "write_file" || call.tool === "replace_in_file") dirty = true;
          }
        } catch (e) {
          if (e instanceof LoopEnded || signal.aborted) throw e;
          if (!(e instanceof WeftError) || e.code !== "input/invalid") throw e;
          result = `Error: ${e.message}`;
        }
        // What people said on the task meanwhile goes with the tool's answer into the next turn.
        const said = heard.take();
        if (said !== undefined) result = `${result}\n\n${said}`;
        messages.push({ role: "user", content: result });
        say(status, { role: "user", content: result, at: Date.now() });
      }
    } catch (e) {
      if (stop?.aborted) {
        // This peer is stopping: keep the lease (it lapses unless the peer is back in time to take the task up).
        // Not released as the scheduler releases a job's: only this peer holds the agent's key, so only a restart
        // here can carry on as this agent, and a release reads as giving up (pick-task.ts does not take back a task
        // it gave up). Kept, a restart within the lease (60 s by default) takes the task up at once; a peer that
        // does not come back frees it within one lease.
        return end(status, { kind: "stopped", reason: "this peer stopped; the task is taken up again on restart" });
      }
      const stopped = kill.signal.aborted ? kill.signal : lease.signal.aborted ? lease.signal : undefined;
      const reason = stopped
        ? String((stopped.reason as Error)?.message ?? stopped.reason)
        : deadline.aborted
        ? `ran out of its ${limits.wallMs / 1000} s`
        : e instanceof Error
        ? e.message
        : String(e);
      lease.close();
      await this.#giveBack(space, signer, picked.task.id, fence, labels, tried, reason);
      return end(status, { kind: stopped ? "stopped" : "failed", reason });
    } finally {
      lease.close();
      this.#leases.delete(name);
      await work?.close();
    }
  }

  /** On failure: say on the task what was tried and why it stopped, and release it for someone else. */
  async #giveBack(
    space: Space,
    signer: Awaited<ReturnType<PeerAgents["signer"]>>,
    task: string,
    fence: number,
    labels: string[],
    tried: string[],
    reason: string,
  ): Promise<void> {
    const steps = tried.length > 0 ? tried.slice(-30).map((t) => `- ${t}`).join("\n") : "- nothing";
    const body = `The agent stopped without a patch: ${reason}\n\nWhat it tried:\n${steps}`.slice(0, 16_000);
    // A paused agent's comment is refused but its release lands (giving back is not using power), so the task is
    // free at once; a revoked agent can sign neither, and its lease lapses.
    await space.actAs(signer, "comment", { task, body }).catch(() => {});
    await space.actAs(signer, "release", { task, fence, labels }).catch(() => {});
  }
}

function ask(router: LlmRouter, messages: ChatMessage[], limits: LoopLimits, signal: AbortSignal) {
  return router.call({ taskKind: AGENT_TASK_KIND, messages, maxOutputTokens: limits.outputTokens }, { signal });
}

/** Run one reading or editing tool on the working tree; its answer for the model. */
async function use(work: Workspace, call: ToolCall): Promise<string> {
  switch (call.tool) {
    case "list_files":
      return (await work.files()).join("\n") || "(no files)";
    case "read_file":
      return await work.read(call.path);
    case "search": {
      const hits = await work.search(call.query);
      return hits.length > 0 ? hits.join("\n") : "(no matches)";
    }
    case "write_file":
      await work.write(call.path, call.content);
      return `wrote ${call.path}`;
    case "replace_in_file":
      await work.replace(call.path, call.old, call.new);
      return `changed ${call.path}`;
    default:
      throw new WeftError("AgentTool", "input/invalid", `${call.tool} is not a tool that reads or edits`);
  }
}
