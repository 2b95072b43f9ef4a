/**
 * wasi:cli for a job: exactly the arguments and environment of the spec,
 * `/` as the working directory, an empty stdin, no terminals, and stdout
 * and stderr turned into log lines as they are written — each byte counted
 * against the output limit first. A line longer than 16 KiB is split.
 */
import type { OutputBudget } from "./budget.ts";
import { createCli } from "./shim.ts";

const MAX_LINE = 16 * 1024;

export type LogSink = (stream: "stdout" | "stderr", text: string) => void;

function lineStream(stream: "stdout" | "stderr", sink: LogSink, budget: OutputBudget) {
  const decoder = new TextDecoder();
  let pending = "";
  const emit = (final: boolean) => {
    for (;;) {
      const newline = pending.indexOf("\n");
      if (newline < 0 && pending.length < MAX_LINE) break;
      const end = newline >= 0 && newline < MAX_LINE ? newline : MAX_LINE;
      const line = pending.slice(0, end);
      sink(stream, line.endsWith("\r") ? line.slice(0, -1) : line);
      pending = pending.slice(end === newline ? end + 1 : end);
    }
    if (final && pending.length > 0) {
      sink(stream, pending);
      pending = "";
    }
  };
  return {
    handler: {
      write(bytes: Uint8Array) {
        budget.charge(bytes.byteLength);
        pending += decoder.decode(bytes, { stream: true });
        emit(false);
      },
    },
    /** Emit what is left of an unfinished last line. */
    flush() {
      pending += decoder.decode();
      emit(true);
    },
  };
}

export function jobCli(args: string[], env: [string, string][], sink: LogSink, budget: OutputBudget) {
  const stdout = lineStream("stdout", sink, budget);
  const stderr = lineStream("stderr", sink, budget);
  const cli = createCli({ arguments: args, stdout: stdout.handler, stderr: stderr.handler });
  return {
    interfaces: {
      ...cli,
      environment: {
        getEnvironment: (): [string, string][] => env.map(([k, v]) => [k, v]),
        getArguments: (): string[] => [...args],
        initialCwd: (): string => "/",
      },
    },
    flush() {
      stdout.flush();
      stderr.flush();
    },
  };
}
