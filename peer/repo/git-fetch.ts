/**
 * The asking side of `/weft/git/1`: fetch commits of a space's repository
 * from one peer into a local bare repository with system `git fetch`, so
 * git's own negotiation (the haves of the local refs against the wants)
 * decides what moves and a second fetch moves only what is new.
 *
 * The request (space, repository, wants) goes only to a peer that proved
 * it may sync the space: asking names them, and nothing of a space
 * reaches a non-member. Wants already here are not asked for. After the
 * peer's "go", `git fetch ext::<relay>` runs in the local repository; the
 * relay (git-relay.ts) joins git to this process through a Unix socket in
 * a private directory, and this process pipes that socket to the stream.
 * The transfer is cut off by its limits (bytes, idle time, total time) or
 * the caller's signal, which kill git and everything it started.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
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
import { missingObjects } from "./git-objects.ts";
import {
  DEFAULT_GIT_LIMITS,
  type GitLimits,
  pipeFromStream,
  pipeToStream,
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

const RELAY = fileURLToPath(new URL("./git-relay.ts", import.meta.url));

/** An `ext::` remote's command words: `%` and spaces escaped as git's remote-ext reads them. */
function extUrl(words: string[]): string {
  return `ext::${words.map((w) => w.replace(/%/g, "%%").replace(/ /g, "% ")).join(" ")}`;
}

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
    const bytes = await runFetch(stream, rest, options.into, missing, limits, signal);
    const still = await missingObjects(options.into, missing);
    if (still.length > 0) {
      throw new GitTransferError("git/failed", `git fetch ended without ${still.length} of the commits (${still[0]}…)`);
    }
    return { fetched: missing, bytes };
  } catch (e) {
    if (stream.status === "open") stream.abort(e as Error);
    throw isWeftError(e) ? e : new GitTransferError("internal", messageOf(e), { cause: e });
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
}

/** Run `git fetch` in `into` over the stream, through the relay; resolves with the bytes moved. */
async function runFetch(
  stream: Stream,
  rest: Uint8Array,
  into: string,
  wants: string[],
  limits: GitLimits,
  signal: AbortSignal | undefined,
): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), "weft-git-"));
  const socketPath = join(dir, "relay.sock");
  let failure: WeftError | undefined;
  // Half-open: git may end its side (after "done") while the pack is still coming.
  const server = createServer({ allowHalfOpen: true });
  try {
    // Listening before git starts: the relay connects as soon as git runs it.
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(socketPath, resolve);
    });
    const git = startGit([
      "-C",
      into,
      "-c",
      "protocol.version=2",
      "-c",
      "protocol.ext.allow=always",
      "-c",
      "fetch.fsckObjects=true",
      "fetch",
      "--quiet",
      "--no-tags",
      "--no-write-fetch-head",
      "--no-auto-gc",
      "--no-recurse-submodules",
      extUrl([process.execPath, RELAY, socketPath]),
      ...wants,
    ]);
    const fail = (error: WeftError) => {
      failure ??= error;
      git.kill();
      if (stream.status === "open") stream.abort(error);
    };
    const watchdog = new Watchdog(limits, fail);
    const onAbort = () => fail(aborted());
    if (signal?.aborted) onAbort();
    signal?.addEventListener("abort", onAbort, { once: true });
    stream.addEventListener("close", () => {
      // The peer went before git was done: git sees its input end and fails on its own; make sure it does.
      if (stream.status === "closed") return;
      fail(signal?.aborted ? aborted() : new GitTransferError("git/unreachable", "the peer closed the git stream"));
    });
    server.once("connection", (socket: Socket) => {
      server.close();
      socket.on("error", () => fail(new GitTransferError("git/failed", "the git relay went away")));
      pipeFromStream(stream, rest, socket, watchdog);
      pipeToStream(
        socket,
        stream,
        watchdog,
        () => fail(new GitTransferError("git/unreachable", "the git stream broke")),
      );
    });
    const code = await git.exited;
    watchdog.stop();
    signal?.removeEventListener("abort", onAbort);
    if (failure) throw failure;
    if (code !== 0) throw new GitTransferError("git/failed", `git fetch failed: ${git.stderr() || `exit ${code}`}`);
    return watchdog.bytes;
  } finally {
    server.close();
    await rm(dir, { recursive: true, force: true });
  }
}
