/**
 * How a run backend ends a run: its outcome becomes the RunResult the
 * handle's `done` resolves with. An error the backend itself threw is a run
 * ended in "error", saying so; the reason a run did not succeed is the last
 * line of its log (a system line); then the log ends.
 */
import { messageOf } from "../errors.ts";
import type { LogLine, OutputFile, RunResult, RunStatus } from "./runner.ts";

/** What a backend says of a run that ended, before it is stamped with its times. */
export interface RunOutcome {
  status: RunStatus;
  exitCode?: number;
  reason?: string;
  outputs: OutputFile[];
}

export async function settleRun(
  outcome: Promise<RunOutcome>,
  startedAt: number,
  log: { push(line: LogLine): void; end(): void },
): Promise<RunResult> {
  const { status, exitCode, reason, outputs } = await outcome.catch((e): RunOutcome => ({
    status: "error",
    reason: `the runner failed: ${messageOf(e)}`,
    outputs: [],
  }));
  if (reason !== undefined && status !== "succeeded") log.push({ stream: "system", at: Date.now(), text: reason });
  log.end();
  const result: RunResult = { status, outputs, startedAt, endedAt: Date.now() };
  if (exitCode !== undefined) result.exitCode = exitCode;
  if (reason !== undefined) result.reason = reason;
  return result;
}
