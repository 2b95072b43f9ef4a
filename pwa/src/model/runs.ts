/**
 * Runs as the Runs view and the start-run form handle them: which runner
 * kinds the space's live nodes offer, files chosen in the browser kept by
 * CID in this node's blob store (which serves them to the node that runs
 * the job), the run spec a form describes, and a re-run (a new signed
 * create carrying the same spec and requirements). Every run is a task
 * with a `run`, whatever its kind: wasm, nix, container, kubernetes.
 */
import { WeftError } from "#protocol";
import type { RunSpec } from "#protocol/runner";
import { newTaskId, type Space } from "#protocol/space";
import type { Task, TaskView } from "#protocol/tasks";
import type { ContentStore } from "#protocol/runner";

/** The largest file the browser stores for a run (its whole bytes are held in memory to hash them). */
export const MAX_RUN_FILE_BYTES = 256 * 1024 * 1024;

/** Runner kinds the space's live nodes advertise, and wasm (which every peer and offering tab runs). */
export function runnerKinds(adverts: readonly { runners: readonly string[] }[]): string[] {
  return [...new Set(["wasm", ...adverts.flatMap((a) => a.runners)])].sort();
}

/** Keep a chosen file in this node's blob store; resolves to its CID. */
export async function storeFile(
  store: ContentStore,
  file: { name: string; size: number; arrayBuffer(): Promise<ArrayBuffer> },
): Promise<string> {
  if (file.size > MAX_RUN_FILE_BYTES) {
    throw new WeftError(
      "InvalidInput",
      "input/too-large",
      `${file.name} is ${Math.ceil(file.size / 2 ** 20)} MB; a browser stores at most ${
        MAX_RUN_FILE_BYTES / 2 ** 20
      } MB per file: upload it with \`weft artifact put\` and give its CID`,
    );
  }
  return await store.put(new Uint8Array(await file.arrayBuffer()));
}

/** `NAME=value` lines into the spec's environment; a bad line is refused with its number. */
export function parseEnv(text: string): RunSpec["env"] {
  const env: RunSpec["env"] = [];
  for (const [i, raw] of text.split("\n").entries()) {
    const line = raw.trim();
    if (line === "") continue;
    const eq = line.indexOf("=");
    if (eq <= 0) {
      throw new WeftError("InvalidInput", "input/env", `environment line ${i + 1} is not NAME=value: ${line}`);
    }
    env.push({ name: line.slice(0, eq), value: line.slice(eq + 1) });
  }
  return env;
}

/** One argument per line, kept exactly (spaces inside an argument stay); blank lines are dropped. */
export function parseArgs(text: string): string[] {
  return text.split("\n").filter((l) => l.trim() !== "");
}

export interface RunForm {
  runner: string;
  title: string;
  program: string;
  args: string[];
  inputs: { path: string; cid: string }[];
  env: RunSpec["env"];
  wallSeconds: number;
  memoryMb: number;
  outputMb: number;
  tags: string[];
}

/** Submit a run: one signed create carrying the spec; the key makes a retried submission the same run. */
export function submitRun(space: Space, form: RunForm, idempotencyKey: string): Promise<TaskView> {
  const run: RunSpec = {
    runner: form.runner,
    program: form.program,
    args: form.args,
    inputs: form.inputs,
    env: form.env,
    limits: {
      wallMs: Math.round(form.wallSeconds * 1000),
      memoryMb: form.memoryMb,
      outputBytes: Math.round(form.outputMb * 2 ** 20),
    },
  };
  return space.act("create", {
    task: newTaskId(),
    title: form.title.trim() || `run ${form.runner} ${form.program.slice(0, 24)}`.slice(0, 200),
    run,
    ...(form.tags.length ? { requirements: { tags: form.tags } } : {}),
    idempotencyKey,
  });
}

/** Run the same spec again, with the same requirements: a new task, so the first run's history stays as it was. */
export function rerun(space: Space, task: Task, idempotencyKey: string): Promise<TaskView> {
  if (!task.run) {
    throw new WeftError("InvalidInput", "task/not-a-run", `task ${task.id.slice(0, 6)} asks for no compute`);
  }
  const requirements = Object.keys(task.requirements).length ? { requirements: task.requirements } : {};
  return space.act("create", {
    task: newTaskId(),
    title: `Re-run: ${task.title}`.slice(0, 200),
    body: `Re-run of ${task.id}.`,
    run: task.run,
    ...requirements,
    idempotencyKey,
  });
}

/** Stop a run: a signed cancel; the node running it stops it at once. */
export function stopRun(space: Space, task: Task): Promise<TaskView> {
  return space.act("cancel", { task: task.id, body: "Stopped from the Runs view." });
}
