/**
 * The asking side of `/weft/git/1`: fetch commits of a space's repository
 * from one peer into a local bare repository. This process speaks git's
 * fetch protocol (v2) to the peer's `git upload-pack` itself — the wants,
 * the local ref tips as haves (so a second fetch moves only what is new),
 * "done" — and writes the pack straight into `git index-pack --strict
 * --fix-thin` in the repository: no `git fetch` process, no loopback hop,
 * no separate connectivity walk (index-pack --strict finds every link).
 *
 * The request (space, repository, wants) goes only to a peer that proved
 * it may sync the space: asking names them, and nothing of a space
 * reaches a non-member. Wants already here are not asked for. After the
 * peer's "go", the peer's answer is read by fetch-response.ts.
 * The transfer is cut off by its limits (bytes, idle time, total time) or
 * the caller's signal, which kill index-pack.
 */
import type { Stream } from "@libp2p/interface";
import { isWeftError, messageOf, WeftError } from "#protocol";
import { peerIdFromDid, type WeftNode } from "#protocol/node";
import {
  checkGitRequest,
  encodeGitRequest,
  GIT_PROTOCOL,
  GitTransferError,
  MAX_GIT_ANSWER_BYTES,
  readGitAnswer,
} from "#protocol/sync";
import { startGit } from "./git-child.ts";
import { git } from "./git-run.ts";
import { FetchResponse } from "./fetch-response.ts";
import { encodeFetchRequest } from "./fetch-request.ts";
import { missingObjects } from "./git-objects.ts";
import {
  DEFAULT_GIT_LIMITS,
  type GitLimits,
  pipeFromStream,
  prepareStream,
  readOpening,
  Watchdog,
} from "./git-stream.ts";

export interface GitFetchOptions {
  /** The DID of the connected peer to fetch from. */
  peer: string;
  /** The space (its root DID) the repository belongs to. */
  space: string;
  /** The repository's name in the space. */
  repo: string;
  /** Commit ids to fetch (with everything they reach that `into` lacks). */
  wants: readonly string[];
  /** The local bare repository to fetch into. Its refs are the haves: keep them up to date. */
  into: string;
  signal?: AbortSignal;
  /** Limits on the transfer (bytes both ways, idle time, total time). */
  limits?: Partial<GitLimits>;
}

export interface GitFetchResult {
  /** The wants that were missing and are now in `into` (none if all were here already). */
  fetched: string[];
  /** Bytes that crossed the stream both ways, git's negotiation and pack included. */
  bytes: number;
}

/** The most ref tips offered as haves. */
const MAX_HAVES = 256;

function aborted(): GitTransferError {
  return new GitTransferError("git/aborted", "the fetch was aborted");
}

/** Fetch `wants` of `space`/`repo` from `peer` into the bare repository `into`. */
export async function fetchGit(node: WeftNode, options: GitFetchOptions): Promise<GitFetchResult> {
  const request = checkGitRequest({ space: options.space, repo: options.repo, wants: [...options.wants] });
  const libp2p = node.libp2p;
  if (!libp2p) throw new GitTransferError("p2p/disabled", "this node has no libp2p to fetch git over");
  if (!node.provedSpace(options.peer, request.space)) {
    throw new GitTransferError(
      "sync/refused",
      `${options.peer} has not proved membership of ${request.space} on a live session: it is asked nothing`,
    );
  }
  const missing = await missingObjects(options.into, request.wants);
  if (missing.length === 0) return { fetched: [], bytes: 0 };
  const signal = options.signal;
  if (signal?.aborted) throw aborted();
  const limits = { ...DEFAULT_GIT_LIMITS, ...options.limits };
  // The ref tips offered as haves are read beside the dial and the peer's answer (read-only: nothing to undo).
  const haves = localTips(options.into);
  haves.catch(() => {}); // awaited once the peer has answered; a fetch that fails before that does not need them

  let stream: Stream;
  try {
    stream = await libp2p.dialProtocol(peerIdFromDid(options.peer), GIT_PROTOCOL, { signal });
  } catch (e) {
    if (signal?.aborted) throw aborted();
    throw new GitTransferError("git/unreachable", `could not open a git stream to ${options.peer}: ${messageOf(e)}`, {
      cause: e,
    });
  }
  prepareStream(stream);
  const onAbort = () => stream.abort(aborted());
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    stream.send(encodeGitRequest({ ...request, wants: missing }));
    let rest: Uint8Array;
    try {
      const opening = await readOpening(stream, MAX_GIT_ANSWER_BYTES, limits.idleMs);
      readGitAnswer(opening.body);
      rest = opening.rest;
    } catch (e) {
      if (signal?.aborted) throw aborted();
      throw e;
    }
    const bytes = await runFetch(stream, rest, options.into, missing, await haves, limits, signal);
    // git has all it asked for: a peer that keeps its side open holds nothing of ours.
    if (stream.status === "open") stream.abort(new Error("the fetch is done"));
    const still = await missingObjects(options.into, missing);
    if (still.length > 0) {
      throw new GitTransferError("git/failed", `the fetch ended without ${still.length} of the commits (${still[0]}…)`);
    }
    return { fetched: missing, bytes };
  } catch (e) {
    if (stream.status === "open") stream.abort(e as Error);
    throw isWeftError(e) ? e : new GitTransferError("internal", messageOf(e), { cause: e });
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
}

/** The local repository's commit tips (the most recent first, at most MAX_HAVES): what the fetch offers as haves. */
async function localTips(into: string): Promise<string[]> {
  const { stdout } = await git([
    "-C",
    into,
    "for-each-ref",
    "--sort=-committerdate",
    `--count=${MAX_HAVES}`,
    "--format=%(objecttype) %(objectname)",
  ]);
  return stdout.split("\n").filter((l) => l.startsWith("commit ")).map((l) => l.slice("commit ".length));
}

/**
 * Fetch `wants` over the stream with this process as git's fetch client,
 * writing the pack straight into `git index-pack --strict` in `into`;
 * resolves with the bytes moved.
 */
async function runFetch(
  stream: Stream,
  rest: Uint8Array,
  into: string,
  wants: string[],
  haves: string[],
  limits: GitLimits,
  signal: AbortSignal | undefined,
): Promise<number> {
  // --strict: every object checked (fetch.fsckObjects) and every link it makes found in the pack or in `into`,
  // which is what leaves the wants connected (git fetch's own reasoning for a pack that index-pack found so).
  const indexPack = await startGit(["-C", into, "index-pack", "--stdin", "--fix-thin", "--strict"]);
  let failure: WeftError | undefined;
  const fail = (error: WeftError) => {
    failure ??= error;
    indexPack.kill();
    if (stream.status === "open") stream.abort(error);
  };
  const watchdog = new Watchdog(limits, fail);
  const onAbort = () => fail(aborted());
  if (signal?.aborted) onAbort();
  signal?.addEventListener("abort", onAbort, { once: true });
  const onClose = () => {
    // The peer went before the pack was complete: index-pack sees its input end and fails; make sure it does.
    if (stream.status === "closed") return;
    fail(signal?.aborted ? aborted() : new GitTransferError("git/unreachable", "the peer closed the git stream"));
  };
  stream.addEventListener("close", onClose);
  if (stream.status !== "open") onClose(); // it went while index-pack started
  const response = new FetchResponse(indexPack.stdin, (capabilities) => {
    stream.send(encodeFetchRequest(capabilities, wants, haves));
  });
  response.on("error", (e) => fail(isWeftError(e) ? e : new GitTransferError("sync/protocol", messageOf(e))));
  pipeFromStream(stream, rest, response, watchdog);
  const code = await indexPack.exited;
  watchdog.stop();
  signal?.removeEventListener("abort", onAbort);
  if (failure) throw failure;
  if (code !== 0) {
    throw new GitTransferError(
      "git/bad-pack",
      `git index-pack refused the peer's pack: ${indexPack.stderr() || `exit ${code}`}`,
    );
  }
  return watchdog.bytes;
}
