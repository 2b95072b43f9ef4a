/**
 * Git objects between peers, members only: the transport a space's
 * repositories replicate over (issue 15). Peers keep real bare repositories;
 * this moves git's own pack protocol (v2, with its have/want negotiation)
 * over a `/weft/git/1` libp2p stream, gated like document sync.
 *
 *   const server = await serveGit(node, { resolve: (space, repo) => barePath | undefined });
 *   await server.stop();
 *
 *   const { fetched, bytes } = await fetchGit(node, {
 *     peer,     // DID of a connected node that proved the space
 *     space,    // the space's root DID
 *     repo,     // the repository's name in the space (REPO_NAME)
 *     wants,    // commit ids (at most MAX_GIT_WANTS)
 *     into,     // the local bare repository; its refs are the haves
 *     signal,   // aborting kills git and closes the stream (GitTransferError git/aborted)
 *     limits,   // { maxBytes, idleMs, maxMs } (DEFAULT_GIT_LIMITS)
 *   });
 *
 * - Nothing of a space reaches a non-member, either way: the server answers
 *   only a node that proved `/weft/space/sync` for the space on a live
 *   session (`WeftNode.provedSpace`, by the DID the connection
 *   authenticated), before `resolve` is asked or git runs; the asker sends
 *   its request only to such a node.
 * - `fetchGit` writes objects only, never refs: the caller sets its refs
 *   (e.g. from the space's signed pushes) once the fetch resolves. Those refs
 *   are what the next fetch offers as haves, so keep them current or each
 *   fetch moves everything again.
 * - Failures are `GitTransferError`s (#protocol/sync) with a code from
 *   protocol/error-codes.ts: `sync/refused` (not a member), `git/not-found`
 *   (that peer lacks the repository or a want: ask another), `git/busy`,
 *   `git/unreachable`, `git/too-large`, `git/stalled`, `git/failed` (git's
 *   stderr in the message), `git/aborted`, `sync/protocol` / `input/*`
 *   (a malformed request).
 */
export { fetchGit, type GitFetchOptions, type GitFetchResult } from "./git-fetch.ts";
export { type GitServeOptions, type GitServer, type ResolveRepo, serveGit } from "./git-serve.ts";
export { DEFAULT_GIT_LIMITS, type GitLimits } from "./git-stream.ts";
