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
 */
import { WeftError } from "#protocol";
import { routerBudget } from "#protocol/agents";
import type { ChatMessage, LlmRouter } from "#protocol/llm";
import type { WeftNode } from "#protocol/node";
import { PATCH_FAMILY, type PatchReducer } from "#protocol/patch";
import { REPO_FAMILY, type RepoReducer, zeroId } from "#protocol/repo";
import type { Scheduler } from "#protocol/scheduler";
import { newTaskId, type Space } from "#protocol/space";
import { effectiveStatus, MAX_LEASE_MS, type Task } from "#protocol/tasks";
import { Commands } from "#protocol/ucan";
import type { ArtifactService } from "../../artifacts/service.ts";
import type { PeerLlm } from "../../llm/start.ts";
import type { RepoService } from "../../repo/repo-service.ts";
import type { AgentRecord, PeerAgents } from "../peer-agents.ts";
import { contextPack } from "./context.ts";
import { type LoopStatus, statusView, timed } from "./loop-status.ts";
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
}

export const DEFAULT_LIMITS: LoopLimits = { turns: 24, wallMs: 20 * 60_000, outputTokens: 4096, contextTokens: 6000 };

/** The router's task kind for agents' calls (`[llm.routes] agent = […]`, else `default`). */
export const AGENT_TASK_KIND = "agent";

/** The label that names a task's repository; without one, the space's only repository. */
export const REPO_LABEL = "repo:";

export interface AgentLoopDeps {
  node: WeftNode;
  agents: PeerAgents;
  llm?: PeerLlm;
  repos: RepoService;
  artifacts: ArtifactService;
  scheduler?: Scheduler;
}

const SYSTEM = `You are a coding agent working on one task in a git repository. Each answer is exactly one JSON \
object calling one tool; you then see its result. Tools:
${TOOL_HELP}
Make the smallest change that solves the task, run the tests, and finish only once they pass.`;

/** Why a pass ended without a patch. */
class LoopEnded extends Error {}

export class AgentLoops {
  readonly #d: AgentLoopDeps;
  readonly #status = new Map<string, LoopStatus>();

  constructor(deps: AgentLoopDeps) {
    this.#d = deps;
  }

  /** What agent `name`'s loop is doing or last did on this peer. */
  status(name: string): LoopStatus | undefined {
    const s = this.#status.get(name);
    return s && statusView(s);
  }

  /** One pass of agent `name`: the first eligible task to a proposed patch, or a comment and release. */
  async runOnce(name: string, limits: LoopLimits = DEFAULT_LIMITS): Promise<LoopStatus> {
    if (this.#status.get(name)?.step !== undefined && this.#status.get(name)!.step !== "ended") {
      throw new WeftError("AgentBusy", "task/conflict", `agent ${name} is already working on a task on this peer`);
    }
    const { agents, node } = this.#d;
    const record = await agents.require(name);
    const space = node.space(record.space);
    if (!space) throw new WeftError("NotFound", "not-found", `this peer is not in space ${record.space}`);
    if (!this.#d.llm) {
      throw new WeftError("LlmError", "llm/no-route", "this peer has no [llm] section: configure a model for agents");
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
    const kill = agents.kill(space, record.did);
    const why = kill.stopped();
    if (why) return end(status, { kind: "stopped", reason: why });
    const picked = this.#pick(space, record);
    if (!picked) return end(status, { kind: "idle", reason: "no open task carries this agent's labels" });
    status.task = picked.task.id;
    const signer = await agents.signer(name);
    const labels = picked.task.labels.filter((l) => record.labels.includes(l));
    const claimed = await timed(status, "claiming", () =>
      space.actAs(signer, "claim", {
        task: picked.task.id,
        fence: picked.task.fence + 1,
        expires: Date.now() + Math.min(limits.wallMs + 60_000, MAX_LEASE_MS),
        labels,
      }));
    const fence = claimed.lease?.fence ?? picked.task.fence + 1;
    const tried: string[] = [];
    const deadline = AbortSignal.timeout(limits.wallMs);
    const signal = AbortSignal.any([kill.signal, deadline]);
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
      const context = await contextPack(space, picked.task, patches, work, limits.contextTokens);
      const router = this.#d.llm.withBudget(routerBudget(await agents.spending(space, name, picked.task.id)));
      const messages: ChatMessage[] = [{ role: "system", content: SYSTEM }, { role: "user", content: context }];
      for (const m of messages) status.transcript.push({ ...m, at: Date.now() });
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
        status.transcript.push({ role: "assistant", content: answer.text, at: Date.now() });
        let call: ToolCall;
        let result: string;
        try {
          call = parseToolCall(answer.text);
          tried.push(describeCall(call));
          if (call.tool === "give_up") throw new LoopEnded(`the model gave up: ${call.reason}`);
          if (call.tool === "finish") {
            if (passed && !dirty) {
              return await this.#propose(
                space,
                signer,
                record,
                picked,
                work,
                passed,
                call.summary,
                usage,
                status,
                fence,
                labels,
              );
            }
            result = "Not finished: run_tests must pass on the tree as it is now before you finish.";
          } else if (call.tool === "run_tests") {
            const commit = await work.snapshot(picked.task.title);
            const run = await timed(
              status,
              "testing",
              () => runTests({ ...this.#d, space }, signer, work!.dir, commit, spec, signal, (job) => status.job = job),
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
        messages.push({ role: "user", content: result });
        status.transcript.push({ role: "user", content: result, at: Date.now() });
      }
    } catch (e) {
      const reason = kill.signal.aborted
        ? String((kill.signal.reason as Error)?.message ?? kill.signal.reason)
        : deadline.aborted
        ? `ran out of its ${limits.wallMs / 1000} s`
        : e instanceof Error
        ? e.message
        : String(e);
      await this.#giveBack(space, signer, picked.task.id, fence, labels, tried, reason);
      return end(status, { kind: kill.signal.aborted ? "stopped" : "failed", reason });
    } finally {
      await work?.close();
    }
  }

  /** The oldest open task carrying one of the agent's labels, in a repository this peer holds, and its base. */
  #pick(space: Space, record: AgentRecord): { task: Task; repo: string; base: string; target: string } | undefined {
    const repos = space.log.state<RepoReducer>(REPO_FAMILY).repos;
    const now = Date.now();
    const open = [...space.log.reducer.tasks.values()]
      .filter((t) => !t.run && effectiveStatus(t, now) === "open" && t.labels.some((l) => record.labels.includes(l)))
      .sort((a, b) => a.createdAt[0] - b.createdAt[0] || a.createdAt[1] - b.createdAt[1]);
    for (const task of open) {
      const named = task.labels.find((l) => l.startsWith(REPO_LABEL))?.slice(REPO_LABEL.length);
      const repo = named !== undefined ? repos.get(named) : repos.size === 1 ? [...repos.values()][0] : undefined;
      const target = repo && `refs/heads/${repo.defaultBranch}`;
      const base = target && repo.refs.get(target)?.commit;
      if (repo && target && base) return { task, repo: repo.name, base, target };
    }
    return undefined;
  }

  /** Push the tested commit as the agent, store the transcript, propose the patch, and record the task's result. */
  async #propose(
    space: Space,
    signer: Awaited<ReturnType<PeerAgents["signer"]>>,
    record: AgentRecord,
    picked: { task: Task; repo: string; base: string; target: string },
    work: Workspace,
    passed: TestRunResult,
    summary: string,
    usage: { inputTokens: number; outputTokens: number; costMicroUsd: number; model: string; provider: string },
    status: LoopStatus,
    fence: number,
    labels: string[],
  ): Promise<LoopStatus> {
    const ref = `refs/heads/agent/${record.name}/${picked.task.id}`;
    await timed(status, "pushing", () => this.#push(space, signer, picked.repo, ref, work, passed.commit));
    const patch = await timed(status, "proposing", async () => {
      const transcript = new TextEncoder().encode(
        JSON.stringify({ task: picked.task.id, messages: status.transcript }),
      );
      const stored = await this.#d.artifacts.put(space.id, [transcript]);
      const patch = newTaskId();
      await space.perform(Commands.patchPropose, {
        patch,
        repo: picked.repo,
        target: picked.target,
        base: picked.base,
        head: passed.commit,
        title: picked.task.title.slice(0, 200),
        description: `${summary.slice(0, 30_000)}\n\nTests passed in run ${passed.task}.`,
        tasks: [picked.task.id],
        provenance: {
          model: usage.model,
          provider: usage.provider,
          inputTokens: usage.inputTokens,
          outputTokens: usage.outputTokens,
          costMicroUsd: usage.costMicroUsd,
          turns: status.turn,
          transcript: stored.cid,
          run: passed.task,
        },
      }, signer);
      await space.actAs(signer, "result", {
        task: picked.task.id,
        fence,
        outcome: "success",
        summary: `proposed patch ${patch} (${ref}); tests passed in run ${passed.task}`,
        labels,
      });
      return patch;
    });
    // After timed() has counted the proposing step, so the view shows it.
    return end(status, { kind: "proposed", patch });
  }

  /** The commit's objects into the bare repository's quarantine, then the signed push; admitted only once it applied. */
  async #push(
    space: Space,
    signer: Parameters<Space["perform"]>[2],
    repo: string,
    ref: string,
    work: Workspace,
    commit: string,
  ) {
    const { repos } = this.#d;
    const path = (await repos.repos.existing(space.id, repo))!;
    const pack = await work.pack(commit);
    const quarantine = await repos.repos.quarantine(
      path,
      (async function* () {
        yield pack;
      })(),
    );
    try {
      const { cid } = await space.perform(
        Commands.repoPush,
        { repo, updates: [{ ref, old: zeroId(commit), new: commit }] },
        signer,
      );
      const outcome = space.log.outcome(cid);
      if (outcome && !outcome.applied) throw new LoopEnded(`the push of ${ref} was refused: ${outcome.reason}`);
    } catch (e) {
      await repos.repos.discard(path, quarantine);
      throw e;
    }
    await repos.repos.admit(path, quarantine);
    await repos.sync(space, repo);
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
    // A paused or revoked agent's operations are refused: nothing more it can say, its lease lapses.
    await space.actAs(signer, "comment", { task, body }).catch(() => {});
    await space.actAs(signer, "release", { task, fence, labels }).catch(() => {});
  }
}

function end(status: LoopStatus, outcome: NonNullable<LoopStatus["outcome"]>): LoopStatus {
  status.step = "ended";
  status.outcome = outcome;
  return statusView(status);
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
