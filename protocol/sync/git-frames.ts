/**
 * The opening of a `/weft/git/1` stream, which carries git's own pack
 * protocol (v2) between two nodes for one repository of one space. Before
 * any git runs, the asker sends one request frame naming the space, the
 * repository and the commits it wants; the server answers with one frame,
 * "go" or a typed refusal. After "go" the stream is git's: the asker's
 * `git fetch` and the server's `git upload-pack` negotiate haves and wants
 * themselves, so a second fetch moves only what is new.
 *
 *   asker → server   varint length, CBOR {space, repo, wants: [commit id…]}
 *   server → asker   varint length, CBOR {ok: true} | {code, message}
 *   then             git protocol v2, both ways, until git is done
 *
 * Both frames are bounded before they are read (a length over the limit
 * is refused without reading further, length-frames.ts) and decoded strictly; everything
 * here is pure, so the shells that run git share one reading of the wire.
 */
import * as cborg from "cborg";
import { type ErrorCode, errorCodeOf } from "../error-codes.ts";
import { WeftError } from "../errors.ts";
import { bool, list, object, optional, required, str } from "../schema/input-checks.ts";
import { didKey } from "./frame-checks.ts";
import { decodeStrictCbor, lengthPrefixed } from "./length-frames.ts";

export const GIT_PROTOCOL = "/weft/git/1";
/** The largest request frame: room for MAX_GIT_WANTS sha-256 ids and names. */
export const MAX_GIT_REQUEST_BYTES = 32 * 1024;
/** The largest answer frame. */
export const MAX_GIT_ANSWER_BYTES = 4 * 1024;
/** Commits one request may want. */
export const MAX_GIT_WANTS = 256;

/** A repository's name within its space: what a path segment may safely be. */
export const REPO_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
/** A full object id: sha-1 (40 hex) or sha-256 (64 hex), lower case. */
export const OBJECT_ID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

const repoName = str(1, 100, REPO_NAME);

const requestFrame = object({
  space: required(didKey),
  repo: required(repoName),
  wants: required(list(str(40, 64, OBJECT_ID), MAX_GIT_WANTS)),
});
const answerFrame = object({
  ok: optional(bool),
  code: optional(str(1, 64)),
  message: optional(str(0, 1024)),
});

export type GitRequest = ReturnType<typeof requestFrame>;

/** Why a git stream was refused or failed: the server's answer, or what the asker saw. */
export class GitTransferError extends WeftError {
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super("GitTransferError", code, message, options);
  }
}

function malformed(message: string, cause?: unknown): GitTransferError {
  return new GitTransferError("sync/protocol", message, cause === undefined ? undefined : { cause });
}

/** Check a request the caller built (the same checks the server runs on what arrives). */
export function checkGitRequest(request: unknown): GitRequest {
  const r = requestFrame(request, "request");
  if (r.repo.includes("..") || r.repo.endsWith(".lock")) {
    throw malformed(`request.repo ${r.repo} may not contain ".." or end in ".lock"`);
  }
  if (r.wants.length === 0) throw malformed("request.wants must name at least one commit");
  return r;
}

export function encodeGitRequest(request: GitRequest): Uint8Array {
  return lengthPrefixed(cborg.encode(checkGitRequest(request)));
}

/** The server's answer: go ahead, or a refusal with its code and what to do. */
export function encodeGitAnswer(answer: { ok: true } | { code: ErrorCode; message: string }): Uint8Array {
  return lengthPrefixed(
    cborg.encode("ok" in answer ? { ok: true } : { code: answer.code, message: answer.message.slice(0, 1024) }),
  );
}

/** Read a request frame's body (as split by `splitFrame`), strictly. */
export function decodeGitRequest(body: Uint8Array): GitRequest {
  const value = decodeStrictCbor(body, "git request");
  try {
    return checkGitRequest(value);
  } catch (e) {
    throw e instanceof GitTransferError ? e : malformed(`malformed git request: ${(e as Error).message}`, e);
  }
}

/** Read an answer frame's body: resolves on "go", throws the refusal it carries. */
export function readGitAnswer(body: Uint8Array): void {
  let answer: ReturnType<typeof answerFrame>;
  try {
    answer = answerFrame(decodeStrictCbor(body, "git answer"), "answer");
  } catch (e) {
    throw e instanceof GitTransferError ? e : malformed(`malformed git answer: ${(e as Error).message}`, e);
  }
  if (answer.ok === true) return;
  throw new GitTransferError(
    errorCodeOf(answer.code, "sync/refused"),
    `the peer refused: ${answer.message ?? "no reason given"}`,
  );
}
