/**
 * The serving side of `/weft/git/1`: a member asks for commits of one
 * repository of one space, and this node answers with system
 * `git upload-pack` (protocol v2) on the bare repository the caller's
 * `resolve` names. The order is the security: the opening frame is read
 * bounded and checked; the asker must have proved `/weft/space/sync` for
 * the space on a live session (the node's own record of who proved what,
 * by the DID the connection authenticated) — otherwise it is refused and
 * nothing else happens: `resolve` is not asked and git never runs. Only
 * then is the repository resolved, the wants checked to exist, and
 * upload-pack started, a few at a time, killed when the stream closes, a
 * limit trips or the server stops.
 */
import type { Connection, Stream } from "@libp2p/interface";
import { type ErrorCode, isWeftError, messageOf } from "#protocol";
import { didFromPeerId, type WeftNode } from "#protocol/node";
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

export interface GitServer {
  /** Transfers running now. */
  readonly running: number;
  /** Stop serving and kill every transfer still running. */
  stop(): Promise<void>;
}

/** Serve `/weft/git/1` on `node`'s libp2p. */
export async function serveGit(node: WeftNode, options: GitServeOptions): Promise<GitServer> {
  const libp2p = node.libp2p;
  if (!libp2p) throw new GitTransferError("p2p/disabled", "this node has no libp2p to serve git on");
  const maxConcurrent = options.maxConcurrent ?? 4;
  const limits = { ...DEFAULT_GIT_LIMITS, ...options.limits };
  const openingMs = options.openingMs ?? 10_000;
  const running = new Set<() => void>();
  let stopped = false;

  const refuse = (stream: Stream, from: string, code: ErrorCode, message: string, request?: GitRequest) => {
    node.diagnostics.refuse({
      kind: "sync",
      from,
      what: request ? `git ${request.repo}` : "git",
      code,
      reason: message,
      space: request?.space,
    });
    answer(stream, { code, message });
  };

  const handle = async (stream: Stream, connection: Connection): Promise<void> => {
    prepareStream(stream);
    let from: string;
    try {
      from = didFromPeerId(connection.remotePeer);
    } catch {
      stream.abort(new Error("not a Weft peer"));
      return;
    }
    let request: GitRequest;
    let rest: Uint8Array;
    try {
      const opening = await readOpening(stream, MAX_GIT_REQUEST_BYTES, openingMs);
      request = decodeGitRequest(opening.body);
      rest = opening.rest;
    } catch (e) {
      const error = isWeftError(e) ? e : new GitTransferError("sync/protocol", messageOf(e));
      return refuse(stream, from, error.code, error.message);
    }
    if (!node.provedSpace(from, request.space)) {
      return refuse(stream, from, "sync/refused", `not a member of ${request.space} on this connection`, request);
    }
    if (stopped) return refuse(stream, from, "git/busy", "this node is stopping", request);
    if (running.size >= maxConcurrent) {
      return refuse(stream, from, "git/busy", `serving ${maxConcurrent} git transfers already: retry shortly`, request);
    }
    const cancel = new AbortController();
    const kill = () => cancel.abort();
    running.add(kill);
    try {
      await serveRequest(node, stream, request, rest, options.resolve, limits, cancel.signal);
    } catch (e) {
      const error = isWeftError(e) ? e : new GitTransferError("internal", messageOf(e));
      refuse(stream, from, error.code, error.message, request);
    } finally {
      running.delete(kill);
    }
  };

  await libp2p.handle(GIT_PROTOCOL, (stream, connection) => void handle(stream, connection), {
    maxInboundStreams: maxConcurrent * 2,
    force: true,
  });

  return {
    get running() {
      return running.size;
    },
    async stop() {
      stopped = true;
      await libp2p.unhandle(GIT_PROTOCOL).catch(() => {});
      for (const kill of [...running]) kill();
    },
  };
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
  const git = startGit(["upload-pack", "--strict", path], { env: { GIT_PROTOCOL: "version=2" } });
  const stop = () => git.kill();
  const watchdog = new Watchdog(limits, (error) => {
    node.diagnostics.count(`git.cut-off.${error.code}`);
    stop();
    stream.abort(error);
  });
  signal.addEventListener("abort", () => {
    stop();
    stream.abort(new Error("the git server stopped"));
  });
  stream.addEventListener("close", stop);
  pipeFromStream(stream, rest, git.process.stdin!, watchdog);
  pipeToStream(git.process.stdout!, stream, watchdog, () => {
    stop();
    stream.abort(new Error("the git stream broke"));
  });
  const code = await git.exited;
  watchdog.stop();
  if (code !== 0 && stream.status === "open") stream.abort(new Error(`git upload-pack failed: ${git.stderr()}`));
}
