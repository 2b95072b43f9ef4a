/**
 * A run's log read through the peer that served this page, for a run on a
 * node this browser has no session with (an agent's test job on another
 * member, say): that peer's API reads it from the node running it over its
 * own session (GET …/pods/:task/logs). Asked with a request signed here
 * under /weft/space/read; each line checked and bounded before it is shown.
 */
import type { LogLine } from "#protocol/runner";
import { num, object, oneOf, required, str } from "#protocol/schema";
import type { Space } from "#protocol/space";
import { type ApiSigner, readNdjson } from "../node/api-request.ts";

/** A log line as the runner bounds it (64 KiB of text), with room for its JSON. */
const MAX_LINE_BYTES = 256 * 1024;

const logLine = object({
  stream: required(oneOf("stdout", "stderr", "system")),
  at: required(num(0, Number.MAX_SAFE_INTEGER)),
  text: required(str(0, 64 * 1024)),
});

export async function* peerRunLog(
  me: ApiSigner,
  space: Space,
  origin: string,
  task: string,
  follow: boolean,
  signal?: AbortSignal,
): AsyncGenerator<LogLine> {
  const path = `/v1/spaces/${encodeURIComponent(space.id)}/pods/${encodeURIComponent(task)}/logs${
    follow ? "?follow=true" : ""
  }`;
  const lines = await readNdjson({ me, space, origin, path, ...(signal ? { signal } : {}) }, MAX_LINE_BYTES);
  for await (const line of lines) yield logLine(line, "log line");
}
