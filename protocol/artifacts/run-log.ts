/**
 * A run's log as a file, kept with the run's outputs and named by digest in
 * its manifest and provenance. A run that wrote no files (a failed build, a
 * check that only prints) still has something to attest: what it printed.
 * In-toto requires at least one subject, and this is it.
 *
 * One JSON object per line, as the runner streamed them ({stream, at, text});
 * when the node's log buffer dropped early lines, a first system line says
 * how many.
 */
import { utf8 } from "../bytes.ts";
import type { LogLine } from "../runner/runner.ts";

export const RUN_LOG_MEDIA_TYPE = "application/jsonl";
/** The log's name as an in-toto subject: not a valid output path (":"), so no output can take it. */
export const RUN_LOG_SUBJECT = "weft:run-log";

export function encodeRunLog(lines: readonly LogLine[], dropped = 0): Uint8Array {
  const kept = dropped > 0
    ? [{ stream: "system", at: lines[0]?.at ?? 0, text: `${dropped} earlier lines were dropped` }, ...lines]
    : lines;
  return utf8(kept.map((l) => JSON.stringify({ stream: l.stream, at: l.at, text: l.text }) + "\n").join(""));
}
