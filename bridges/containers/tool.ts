/**
 * Running a helper tool (bwrap, podman, tar) to completion: its output is
 * bounded, it is killed if it overruns its time, and a failure becomes a
 * WeftError that names the tool and quotes the end of what it said.
 */
import { spawn } from "node:child_process";
import { type ErrorCode, WeftError } from "#protocol";

export interface ToolResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Most bytes of each stream kept from a tool. */
const KEEP = 64 * 1024;

export function runTool(
  command: string,
  args: string[],
  options: { timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<ToolResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      stdio: ["ignore", "pipe", "pipe"],
      env: options.env ?? process.env,
      ...(options.cwd ? { cwd: options.cwd } : {}),
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outBytes = 0;
    let errBytes = 0;
    child.stdout.on("data", (b: Buffer) => {
      if (outBytes < KEEP) out.push(b);
      outBytes += b.length;
    });
    child.stderr.on("data", (b: Buffer) => {
      if (errBytes < KEEP) err.push(b);
      errBytes += b.length;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000);
    const finish = (code: number | null, extra = "") => {
      clearTimeout(timer);
      resolve({
        code,
        stdout: Buffer.concat(out).toString("utf8").slice(0, KEEP),
        stderr: (Buffer.concat(err).toString("utf8") + extra).slice(-KEEP),
      });
    };
    child.on("error", (e) => finish(null, e.message));
    child.on("close", (code) => finish(code));
  });
}

/** Run a tool and return its stdout; throws `code` with `what` and the tool's last words if it fails. */
export async function mustRun(
  what: string,
  code: ErrorCode,
  command: string,
  args: string[],
  options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<string> {
  const r = await runTool(command, args, options);
  if (r.code !== 0) {
    const said = r.stderr.trim().split("\n").slice(-3).join(" / ") || `exit code ${r.code}`;
    throw new WeftError("RunnerError", code, `${what} failed (${command}): ${said}`);
  }
  return r.stdout;
}
