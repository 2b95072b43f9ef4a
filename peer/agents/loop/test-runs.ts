/**
 * The agent's test runs: a snapshot commit of its working tree packed
 * (protocol/runner/source.ts), stored as an artifact in the space, and run
 * on the mesh as a container job of the repository's test spec — network
 * off unless the spec asks for it, the checkout at /src — in a run task the agent itself creates (its
 * delegation lets it create run tasks of its runner kinds only). The run
 * names its commit, so a passing run is the evidence the patch's merge gate
 * asks for. Resolves once the run ended, with its log's tail.
 */
import { WeftError } from "#protocol";
import type { Signer } from "#protocol/identity";
import type { WeftNode } from "#protocol/node";
import { packSource, type RunSpec } from "#protocol/runner";
import { podOf, runLog, type Scheduler } from "#protocol/scheduler";
import { newTaskId, type Space } from "#protocol/space";
import type { Task } from "#protocol/tasks";
import type { ArtifactService } from "../../artifacts/service.ts";
import { readGitTree } from "../../source/tree.ts";
import type { TestsSpec } from "./test-spec.ts";

/** The most log text of one run the model is shown (its tail: where failures are). */
const LOG_TAIL_BYTES = 8 * 1024;

export interface TestRunResult {
  task: string;
  commit: string;
  passed: boolean;
  state: string;
  log: string;
}

export interface TestRunDeps {
  node: WeftNode;
  space: Space;
  artifacts: ArtifactService;
  scheduler?: Scheduler;
}

/**
 * Run the tests of `spec` on `commit` of the tree in `dir`, as `agent`;
 * `onJob` hears the run task's id. A spec that asks for the network names
 * `approval` where the space's gates require one.
 */
export async function runTests(
  deps: TestRunDeps,
  agent: Signer,
  dir: string,
  commit: string,
  spec: TestsSpec,
  signal: AbortSignal,
  onJob?: (task: string) => void,
  approval?: string,
): Promise<TestRunResult> {
  const { space } = deps;
  const tree = await readGitTree(dir, commit);
  const stored = await deps.artifacts.put(space.id, [packSource(tree.entries)]);
  const run: RunSpec = {
    runner: "container",
    program: spec.image,
    args: spec.command,
    inputs: [],
    env: [],
    limits: { wallMs: spec.timeoutMs, memoryMb: spec.memoryMb, outputBytes: 16 * 1024 * 1024 },
    source: { cid: stored.cid, commit },
    network: spec.network,
  };
  const task = newTaskId();
  await space.actAs(agent, "create", {
    task,
    title: `tests of ${commit.slice(0, 12)} (agent)`,
    run,
    idempotencyKey: `agent tests ${commit}`,
    ...(approval !== undefined ? { approval } : {}),
  });
  onJob?.(task);
  const ended = await endOf(space, task, signal);
  const pod = podOf(space.id, ended as Task & { run: RunSpec }, Date.now());
  return { task, commit, passed: pod.state === "succeeded", state: pod.state, log: await tail(deps, ended) };
}

/** The task once its run ended (succeeded, failed or cancelled); rejects with the signal's reason if it fires first. */
function endOf(space: Space, id: string, signal: AbortSignal): Promise<Task> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const t = space.log.reducer.tasks.get(id);
      if (!t?.run) return;
      const state = podOf(space.id, t as Task & { run: RunSpec }, Date.now()).state;
      if (state === "succeeded" || state === "failed" || state === "cancelled") done(() => resolve(t));
    };
    const stop = () => done(() => reject(signal.reason));
    const unsubscribe = space.subscribe((e) => {
      if (e.type === "tasks" && e.tasks.includes(id)) check();
    });
    const done = (then: () => void) => {
      unsubscribe();
      signal.removeEventListener("abort", stop);
      then();
    };
    if (signal.aborted) return stop();
    signal.addEventListener("abort", stop, { once: true });
    check();
  });
}

/** The last LOG_TAIL_BYTES of the run's log, from wherever it ran; a note when no reachable node has it. */
async function tail(deps: TestRunDeps, task: Task): Promise<string> {
  let text = "";
  try {
    for await (const line of runLog(deps.node, deps.scheduler, deps.space.id, task, false)) {
      text = (text + (line.stream === "system" ? `[weft] ${line.text}` : line.text) + "\n").slice(-LOG_TAIL_BYTES);
    }
  } catch (e) {
    text += `[the log could not be read: ${e instanceof WeftError ? e.message : String(e)}]`;
  }
  return text;
}
