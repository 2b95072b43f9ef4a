/**
 * Runs one job inside a sandbox process: evaluates the transpiled glue,
 * instantiates the component with the job's imports (nothing else is
 * reachable from it), calls `wasi:cli/run`, and reports how it ended —
 * exit code, trap (telling "hit its memory cap" apart), output limit — with
 * the files it left under /outputs. Runtime-agnostic: the process entry
 * points for each runtime only carry messages.
 */
import type { JobMessage, Outcome, SandboxMessage } from "../core/messages.ts";
import { OutputBudget, OutputLimitExceeded } from "./budget.ts";
import { jobImports } from "./imports.ts";
import type { FileDataEntry } from "./shim.ts";
import { collectOutputs, inputTree } from "./tree.ts";

export type Emit = (message: SandboxMessage, transfer: ArrayBuffer[]) => void;

interface Watched {
  memory: WebAssembly.Memory;
  capBytes: number;
}

type Instantiate = (
  getCoreModule: (name: string) => WebAssembly.Module,
  imports: object,
  instantiateCore: (module: WebAssembly.Module, imports?: WebAssembly.Imports) => WebAssembly.Instance,
) => Promise<Record<string, unknown>>;

function describe(e: unknown): string {
  return e instanceof Error ? `${e.name === "Error" ? "" : `${e.name}: `}${e.message}` : String(e);
}

/** The component's `wasi:cli/run` function, whichever 0.2.x version it exports. */
function runFunction(component: Record<string, unknown>): () => void {
  for (const [name, value] of Object.entries(component)) {
    const run = (value as { run?: unknown } | undefined)?.run;
    if (name.startsWith("wasi:cli/run@0.2") && typeof run === "function") return run as () => void;
  }
  throw new Error("the component does not export wasi:cli/run@0.2.x");
}

async function load(job: JobMessage, imports: object, watched: Watched[]): Promise<() => void> {
  const instantiate = new Function(job.glue)() as Instantiate;
  const modules = new Map(job.modules);
  const caps = new Map(job.memories);
  const names = new Map<WebAssembly.Module, string>();
  const component = await instantiate(
    (name) => {
      const m = modules.get(name);
      if (m === undefined) throw new Error(`the glue asked for an unknown core module ${name}`);
      const module = m instanceof WebAssembly.Module ? m : new WebAssembly.Module(m as Uint8Array<ArrayBuffer>);
      names.set(module, name);
      return module;
    },
    imports,
    (module, imports) => {
      const instance = new WebAssembly.Instance(module, imports);
      for (const cap of caps.get(names.get(module) ?? "") ?? []) {
        const memory = cap.exportName === undefined ? undefined : instance.exports[cap.exportName];
        if (memory instanceof WebAssembly.Memory) watched.push({ memory, capBytes: cap.capBytes });
      }
      return instance;
    },
  );
  return runFunction(component);
}

/**
 * Whether a memory is so close to its cap that a trap was most likely an
 * allocation that could not grow it: less than an eighth of the cap (and
 * less than 1 MiB, whichever is more) left. The engine does not say why `memory.grow` failed,
 * and a guest that cannot allocate usually aborts with `unreachable`.
 */
function nearCap(watched: Watched[]): boolean {
  return watched.some(({ memory, capBytes }) => capBytes - memory.buffer.byteLength < Math.max(capBytes / 8, 2 ** 20));
}

function outcomeOf(e: unknown, watched: Watched[]): Outcome {
  if (e instanceof OutputLimitExceeded) return { kind: "output-limit", message: e.message };
  const exit = e as { exitError?: unknown; code?: unknown } | null;
  if (exit?.exitError === true && typeof exit.code === "number") return { kind: "exit", code: exit.code };
  if (e instanceof Error && Object.hasOwn(e, "payload")) return { kind: "exit", code: 1 };
  const message = describe(e);
  const outOfMemory = nearCap(watched) || /allocation failed|out of memory/i.test(message);
  return { kind: "trap", message, outOfMemory };
}

async function execute(job: JobMessage, imports: object, watched: Watched[]): Promise<Outcome> {
  let run: () => void;
  try {
    run = await load(job, imports, watched);
  } catch (e) {
    return { kind: "error", message: `could not instantiate the component: ${describe(e)}` };
  }
  try {
    run();
    return { kind: "exit", code: 0 };
  } catch (e) {
    return outcomeOf(e, watched);
  }
}

export async function runJob(job: JobMessage, emit: Emit): Promise<void> {
  const budget = new OutputBudget(job.outputBytes);
  const outputs: FileDataEntry = { dir: {} };
  const world = jobImports({
    inputs: inputTree(job.inputs),
    outputs,
    args: job.args,
    env: job.env,
    wallClockSeconds: job.wallClockSeconds,
    budget,
    log: (stream, text) => emit({ type: "log", stream, text, at: Date.now() }, []),
  });
  const watched: Watched[] = [];
  const outcome = await execute(job, world.imports, watched);
  world.flush();
  const kept = outcome.kind === "exit" || (outcome.kind === "trap" && !outcome.outOfMemory);
  const { files, skipped } = kept ? collectOutputs(outputs) : { files: [], skipped: [] };
  emit(
    { type: "done", outcome, outputs: files, skipped },
    files.map(([, bytes]) => bytes.buffer as ArrayBuffer),
  );
}
