/**
 * The serving side of `/weft/git/1`: a member asks for commits of one
 * repository of one space, and this node answers with system
 * `git upload-pack` (protocol v2) on the bare repository the caller's
 * `resolve` names. Only a member is served (peer/p2p/members-only-server.ts:
 * a non-member is refused before `resolve` is asked or git runs). Then the
 * repository is resolved, the wants checked to exist, and upload-pack
 * started, a few at a time, killed when the stream closes, a limit trips,
 * the asker stops holding the space, or the server stops.
 */
import type { Stream } from "@libp2p/interface";
import { isWeftError, messageOf } from "#protocol";
import type { WeftNode } from "#protocol/node";
import {
  decodeGitRequest,
  encodeGitAnswer,
  GIT_PROTOCOL,
  type GitRequest,
  GitTransferError,
  MAX_GIT_REQUEST_BYTES,
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
import { type MembersOnlyServer, serveMembersOnly } from "../p2p/members-only-server.ts";

/** How often a running transfer re-checks that its asker still holds the space, in ms. */
const MEMBERSHIP_CHECK_MS = 500;

/** The bare repository holding `repo` of `space` on this node, or undefined if it carries none. */
export type ResolveRepo = (space: string, repo: string) => string | undefined | Promise<string | undefined>;

export interface GitServeOptions {
  resolve: ResolveRepo;
  /** upload-packs running at once; more askers are told to retry (git/busy). Default 4. */
  maxConcurrent?: number;
  /** Limits on each transfer (bytes both ways, idle time, total time). */
  limits?: Partial<GitLimits>;
  /** How long an asker has to send its opening frame, in ms. Default 10 s. */
  openingMs?: number;
}

export type GitServer = MembersOnlyServer;

/** Serve `/weft/git/1` on `node`'s libp2p. */
export function serveGit(node: WeftNode, options: GitServeOptions): Promise<GitServer> {
  const maxConcurrent = options.maxConcurrent ?? 4;
  const limits = { ...DEFAULT_GIT_LIMITS, ...options.limits };
  return serveMembersOnly(node, {
    protocol: GIT_PROTOCOL,
    name: "git",
    plural: "git transfers",
    maxConcurrent,
    maxInboundStreams: maxConcurrent * 2,
    busyCode: "git/busy",
    openingMs: options.openingMs ?? 10_000,
    membershipCheckMs: MEMBERSHIP_CHECK_MS,
    open: async (stream, openingMs) => {
      prepareStream(stream);
      const opening = await readOpening(stream, MAX_GIT_REQUEST_BYTES, openingMs);
      return { request: decodeGitRequest(opening.body), rest: opening.rest };
    },
    error: (code, message) => new GitTransferError(code, message),
    describe: (request) => `git ${request.repo}`,
    answer: (stream, code, message) => answer(stream, { code, message }),
    serve: async (stream, { request, rest }, { signal, refuse }) => {
      try {
        await serveRequest(node, stream, request, rest, options.resolve, limits, signal);
      } catch (e) {
        const error = isWeftError(e) ? e : new GitTransferError("internal", messageOf(e));
        refuse(error.code, error.message);
      }
    },
  });
}

/** Answer the opening and close our side; a stream already gone is left alone. */
function answer(stream: Stream, a: Parameters<typeof encodeGitAnswer>[0]): void {
  try {
    stream.send(encodeGitAnswer(a));
    stream.close().catch(() => stream.abort(new Error("git stream closed")));
  } catch {
    stream.abort(new Error("git stream closed"));
  }
}

/** Resolve the repository, check the wants, answer "go" and run upload-pack on the stream until it is done. */
async function serveRequest(
  node: WeftNode,
  stream: Stream,
  request: GitRequest,
  rest: Uint8Array,
  resolve: ResolveRepo,
  limits: GitLimits,
  signal: AbortSignal,
): Promise<void> {
  const path = await resolve(request.space, request.repo);
  if (path === undefined) {
    throw new GitTransferError("git/not-found", `this node carries no repository ${request.repo} in that space`);
  }
  const missing = await missingObjects(path, request.wants);
  if (missing.length > 0) {
    throw new GitTransferError(
      "git/not-found",
      `this node's ${request.repo} lacks ${missing.length} of the commits asked for (${missing[0]}…): ask another peer`,
    );
  }
  if (signal.aborted || stream.status !== "open") return;
  stream.send(encodeGitAnswer({ ok: true }));
  node.diagnostics.count("git.served");
  const git = await startGit(["upload-pack", "--strict", "--", path], { env: { GIT_PROTOCOL: "version=2" } });
  // The asker may have gone while git started.
  if (signal.aborted || stream.status !== "open") {
    git.kill();
    return;
  }
  const stop = () => git.kill();
  const cut = (error: GitTransferError) => {
    node.diagnostics.count(`git.cut-off.${error.code}`);
    stop();
    stream.abort(error);
  };
  const watchdog = new Watchdog(limits, cut);
  // Cut off (the asker no longer holds the space) or the server stopped: git goes with the stream.
  signal.addEventListener("abort", () => {
    stop();
    stream.abort(signal.reason as Error);
  });
  stream.addEventListener("close", stop);
  pipeFromStream(stream, rest, git.stdin, watchdog);
  pipeToStream(git.stdout, stream, watchdog, () => {
    stop();
    stream.abort(new Error("the git stream broke"));
  });
  const code = await git.exited;
  watchdog.stop();
  if (code !== 0 && stream.status === "open") stream.abort(new Error(`git upload-pack failed: ${git.stderr()}`));
}
