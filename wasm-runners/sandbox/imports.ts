/**
 * Everything a job's component may import, assembled for one job and keyed
 * as jco's glue asks for it (interface names without versions). This object
 * is the whole of what the job can reach.
 */
import type { ProvidedInterface } from "../core/interfaces.ts";
import type { OutputBudget } from "./budget.ts";
import { jobClocks } from "./clocks.ts";
import { jobFilesystem } from "./filesystem.ts";
import { jobNetwork } from "./network.ts";
import { error, insecure, insecureSeed, random, streams } from "./shim.ts";
import { jobCli, type LogSink } from "./stdio.ts";
import type { FileDataEntry } from "./shim.ts";

export interface JobWorld {
  inputs: FileDataEntry;
  outputs: FileDataEntry;
  args: string[];
  env: [string, string][];
  wallClockSeconds: number;
  budget: OutputBudget;
  log: LogSink;
}

export function jobImports(world: JobWorld): { imports: Record<ProvidedInterface, object>; flush(): void } {
  const cli = jobCli(world.args, world.env, world.log, world.budget);
  const clocks = jobClocks(world.wallClockSeconds);
  const fs = jobFilesystem(world.inputs, world.outputs, world.budget);
  const imports: Record<ProvidedInterface, object> = {
    "wasi:cli/environment": cli.interfaces.environment,
    "wasi:cli/exit": cli.interfaces.exit,
    "wasi:cli/stdin": cli.interfaces.stdin,
    "wasi:cli/stdout": cli.interfaces.stdout,
    "wasi:cli/stderr": cli.interfaces.stderr,
    "wasi:cli/terminal-input": cli.interfaces.terminalInput,
    "wasi:cli/terminal-output": cli.interfaces.terminalOutput,
    "wasi:cli/terminal-stdin": cli.interfaces.terminalStdin,
    "wasi:cli/terminal-stdout": cli.interfaces.terminalStdout,
    "wasi:cli/terminal-stderr": cli.interfaces.terminalStderr,
    "wasi:clocks/monotonic-clock": clocks.monotonicClock,
    "wasi:clocks/wall-clock": clocks.wallClock,
    "wasi:filesystem/types": fs.types,
    "wasi:filesystem/preopens": fs.preopens,
    "wasi:io/error": error,
    "wasi:io/poll": clocks.poll,
    "wasi:io/streams": streams,
    "wasi:random/random": random,
    "wasi:random/insecure": insecure,
    "wasi:random/insecure-seed": insecureSeed,
    ...jobNetwork(),
  };
  return { imports, flush: cli.flush };
}
