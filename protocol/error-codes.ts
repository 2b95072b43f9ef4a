/**
 * Every code a WeftError can carry, in one place, each with the kind of
 * failure it is. The peer's API turns the kind into an HTTP status, the CLI
 * into an exit code, and the PWA branches on the same codes: the same
 * failure has the same code everywhere. `WeftError` only takes an
 * `ErrorCode`, so a code that is not listed here does not type-check.
 */

/** What kind of failure a code is; each shell maps kinds, never single codes. */
export type ErrorKind =
  /** The input is wrong: fix it and retry. */
  | "input"
  /** No credentials, or ones that do not verify. */
  | "unauthenticated"
  /** Authenticated, but not allowed to do this. */
  | "denied"
  | "not-found"
  /** It conflicts with the current state (a newer lease, an existing key). */
  | "conflict"
  | "too-large"
  /** Well-formed, but refused on what it says (a forged artifact, a tampered manifest). */
  | "unprocessable"
  /** A service this peer depends on failed (the artifact store). */
  | "upstream"
  /** The peer (or a resource it needs) is not there right now: retry later. */
  | "unavailable"
  | "timeout"
  /** The user called it off (declined a confirmation). */
  | "cancelled"
  /** A bug or a broken environment: the peer's log has details. */
  | "internal";

export const ERROR_CODES = {
  // anywhere
  "not-found": "not-found",
  internal: "internal",
  /** An HTTP error whose body named no code this build knows. */
  http: "internal",
  "storage/io": "internal",
  "config/invalid": "input",
  /** A part of the daemon could not start (its cause says which resource); the parts before it were stopped. */
  "daemon/start-failed": "unavailable",
  "home/not-a-directory": "input",
  "home/permissions": "input",
  "cbor/malformed": "input",
  // input checks at every boundary
  "input/invalid": "input",
  "input/address": "input",
  "input/cid": "input",
  "input/clock": "input",
  "input/command": "input",
  "input/did": "input",
  "input/mismatch": "input",
  "input/policy": "input",
  "input/task": "input",
  "input/env": "input",
  "input/expiration": "input",
  "input/run": "input",
  "input/too-large": "too-large",
  // identities and keys
  "did/invalid": "unauthenticated",
  "key/invalid": "input",
  "key/unsupported": "internal",
  "keystore/exists": "conflict",
  "keystore/bad-name": "input",
  "keystore/corrupt": "internal",
  "keystore/insecure-permissions": "internal",
  // UCAN (names as in the UCAN 1.0 specifications)
  "ucan/malformed": "unauthenticated",
  "ucan/unsupported-varsig": "unauthenticated",
  "ucan/invalid-payload": "unauthenticated",
  "ucan/invalid-signature": "unauthenticated",
  "ucan/expired": "unauthenticated",
  "ucan/too-early": "unauthenticated",
  "ucan/invalid-policy": "denied",
  "ucan/invalid-command": "denied",
  "ucan/invalid-audience": "denied",
  "ucan/invalid-subject": "denied",
  "ucan/unavailable-proof": "denied",
  "ucan/invalid-claim": "denied",
  "ucan/match-error": "denied",
  "ucan/revoked": "denied",
  "ucan/invalid-revocation": "denied",
  // the API's own authentication and capabilities
  "auth/missing": "unauthenticated",
  "auth/replayed": "unauthenticated",
  /** No live API session with that id here: it expired or ended, or the peer restarted. Open a new one. */
  "auth/session-unknown": "unauthenticated",
  /** The session request's MAC is not the one its key gives for this very request (method, path, query, body). */
  "auth/session-mac": "unauthenticated",
  /** The session request's counter was seen before (or is too far behind the newest): a replay. */
  "auth/session-replayed": "unauthenticated",
  /** The session was opened on another subject, or for a command that does not cover this route. */
  "auth/session-scope": "denied",
  "cap/missing": "denied",
  "cap/not-held": "denied",
  "cap/exceeds": "denied",
  "cap/node-wide": "denied",
  "cap/revoked": "denied",
  // spaces, invites, tasks, sync
  "space/invalid": "internal",
  "space/unknown": "internal",
  "invite/invalid": "input",
  "join/timeout": "timeout",
  "task/conflict": "conflict",
  /** A push (or repository create) the space refused: a stale ref, a ref the pusher may not move. */
  "repo/refused": "conflict",
  "task/not-a-run": "input",
  /** A merge whose required checks are missing or failed (or that lacks approvals): it says which. */
  "patch/not-mergeable": "conflict",
  /** A patch operation the space refused (a retry of one refused before, or refused on its own terms). */
  "patch/refused": "conflict",
  // agents and their budgets
  /** A budget in the agent's chain has no room for this call: it was not made. */
  "budget/exhausted": "denied",
  /** The agent was paused or revoked: its call or job was stopped. */
  "agent/stopped": "cancelled",
  "agent/unknown": "not-found",
  "agent/exists": "conflict",
  /** An operation the space's log refused on its own terms (the reducer's reason: an answered request, a stale revision). */
  "op/refused": "conflict",
  /** An agent's step the space's gates hold back, without a matching approval: request one, then name it. */
  "approval/required": "denied",
  /** A person denied the agent's request: the step is not taken. */
  "approval/denied": "denied",
  "sync/protocol": "denied",
  "sync/refused": "denied",
  "p2p/disabled": "internal",
  "ws/unauthenticated-limit": "unavailable",
  // the node's own records (peer/daemon/node-revocations.ts, powerlines.ts)
  "node/bad-revocations": "internal",
  "node/bad-powerlines": "internal",
  "node/too-many-revocations": "unavailable",
  "node/too-many-powerlines": "unavailable",
  /** No powerline with that CID was issued by this node. */
  "cap/not-issued": "not-found",
  "node/not-ready": "unavailable",
  // pairing a browser with a peer
  "pair/nothing": "not-found",
  "pair/refused": "denied",
  /** The browser could not start offering its capacity. */
  "offer/failed": "unavailable",
  /** Too many actions wait in the browser for its node to catch up (pwa/src/node/intents.ts). */
  "intents/full": "unavailable",
  /** No Weft peer answers the browser's signed API request at that origin. */
  "peer/unreachable": "unavailable",
  // runners
  "runner/content-mismatch": "internal",
  "runner/content-missing": "internal",
  "runner/network-unavailable": "internal",
  "runner/wrong-kind": "internal",
  "runner/source-invalid": "input",
  "runner/spec-invalid": "input",
  "runner/unavailable": "unavailable",
  "container/bad-image": "input",
  "container/bad-image-ref": "input",
  "container/image-too-big": "too-large",
  "container/cgroup": "internal",
  "container/podman": "internal",
  "nix/store-gc": "internal",
  /** The Kubernetes API refused or failed a request the kubernetes runner or virtual node made. */
  "kubernetes/api": "upstream",
  /** A pod the Weft virtual node cannot run as it is (several containers, an image not named by digest). */
  "kubernetes/pod-unsupported": "input",
  /** The kubernetes bridge cannot run here: its cluster cannot be reached or used, or its host runs no jobs. */
  "kubernetes/unavailable": "unavailable",
  /** Only a task's holder and creator and the space's reviewers may open the editor of its run. */
  "editor/forbidden": "denied",
  /** The run's editor pod is not answering yet (starting): retry. */
  "editor/starting": "unavailable",
  /** The run's editor is gone: its run ended. */
  "editor/gone": "not-found",
  "wasm/frame": "internal",
  "wasm/malformed-module": "internal",
  "wasm/memory-limit": "internal",
  "wasm/not-a-job": "internal",
  "wasm/unavailable": "internal",
  "wasm/transpile": "internal",
  // artifacts
  /** The manifest block is not a well-formed Weft manifest. */
  "artifact/invalid-manifest": "unprocessable",
  /** No valid signature by the runner over the provenance statement. */
  "artifact/bad-signature": "unprocessable",
  /** The manifest and its signed statement (or its CID) disagree. */
  "artifact/tampered": "unprocessable",
  /** The signer did not hold the run capability in the space when it ran. */
  "artifact/unauthorized": "unprocessable",
  /** Bytes read back do not match the recorded size and sha-256. */
  "artifact/digest-mismatch": "input",
  /** A CID that does not name raw bytes by sha-256. */
  "artifact/invalid-cid": "input",
  /** A manifest larger than peers will exchange. */
  "artifact/too-large": "unprocessable",
  /** The artifact store refused the credentials. */
  "artifact/store-credentials": "upstream",
  /** The artifact store's bucket does not exist. */
  "artifact/store-missing-bucket": "upstream",
  /** The artifact store did not answer (or the connection broke): worth retrying. */
  "artifact/store-unreachable": "upstream",
  /** The artifact store answered with another error. */
  "artifact/store-failed": "upstream",
  /** No connected node has the artifact right now. */
  "artifact/unreachable": "unavailable",
  // model calls (the LLM router: protocol/llm/failures.ts says what the router does about each)
  /** The provider is rate-limiting: retried with backoff, then another provider. */
  "llm/rate-limited": "unavailable",
  /** The provider is overloaded or failing (5xx): retried with backoff, then another provider. */
  "llm/overloaded": "unavailable",
  /** The request does not fit the model's context: shorten it or route to a larger model. */
  "llm/context-too-long": "too-large",
  /** The provider refused the API key, has none (its key_env or key_keystore is empty), or the account has no quota: fix the key; the provider is skipped until then. */
  "llm/auth": "upstream",
  /** The provider refused the request as malformed: the same request fails everywhere, so no fallback. */
  "llm/bad-request": "input",
  "llm/timeout": "timeout",
  /** The provider's endpoint did not answer (connection refused, DNS, reset). */
  "llm/unreachable": "unavailable",
  /** The provider answered something that is not its API's shape. */
  "llm/bad-response": "upstream",
  /** The caller stopped the call (an agent paused or revoked). */
  "llm/cancelled": "cancelled",
  /** The budget hook refused the call's reservation, or granted too little for any output. */
  "llm/budget-exhausted": "denied",
  /** No route, provider or price for what was asked: fix [llm] in weft.toml. */
  "llm/no-route": "input",
  /** Every target of the route failed or is cooling down; the message lists each. */
  "llm/unavailable": "unavailable",
  // git objects between peers (/weft/git/1)
  /** The peer carries no such repository, or not the commits asked for: ask another peer. */
  "git/not-found": "not-found",
  /** The peer is serving as many git transfers as it allows: retry shortly. */
  "git/busy": "unavailable",
  /** No connection to the peer could carry the transfer: connect to it, or ask another peer. */
  "git/unreachable": "unavailable",
  /** The transfer moved more bytes than its limit allows. */
  "git/too-large": "too-large",
  /** The transfer made no progress for too long, or ran past its time limit. */
  "git/stalled": "timeout",
  /** git itself failed (its stderr says why). */
  "git/failed": "upstream",
  /** The caller aborted the transfer. */
  "git/aborted": "cancelled",
  /** What a peer sent as a git pack is not one, or does not index (an object's hash does not match). */
  "git/bad-pack": "unprocessable",
  // an agent's live transcript between peers (/weft/transcript/1)
  /** The peer is serving as many transcripts as it allows: retry shortly. */
  "transcript/busy": "unavailable",
  /** No connected member runs the agent, or the stream to it broke: connect to the peer that runs it. */
  "transcript/unreachable": "unavailable",
  /** The stream carried its limit of bytes: ask again from the entry it names. */
  "transcript/cut": "too-large",
  // the CLI
  "cli/usage": "input",
  "cli/cancelled": "cancelled",
  "cli/no-route": "input",
  "cli/bad-credentials": "unauthenticated",
  "cli/bad-response": "internal",
  "cli/no-credentials": "unavailable",
  "cli/unreachable": "unavailable",
  // the MCP server (`weft mcp --http`)
  /** A request whose Host or Origin is not this loopback server's (a web page's DNS rebinding). */
  "mcp/origin": "denied",
  /** The server holds as many sessions as it takes. */
  "mcp/busy": "unavailable",
  /** The authorization server's store (<home>/mcp-oauth/store.json) does not parse: remove it, clients register again. */
  "mcp/state-damaged": "internal",
  // the Radicle bridge
  /** A Radicle object (commit, COB change, signature, action) that does not parse as heartwood writes it. */
  "radicle/malformed": "input",
  /** A COB change whose SSHSIG does not verify, or is signed by a key other than its author's. */
  "radicle/forged": "unprocessable",
  /** A git plumbing command on the Radicle repository failed. */
  "radicle/git": "upstream",
  // the Nostr bridge
  /** A gift wrap, seal or rumor that is too large, malformed, forged or not for this key: dropped unread. */
  "nostr/dropped": "unprocessable",
  /** A pairing code that is unknown, used or expired. */
  "nostr/pairing": "input",
  /** A DM (a reply, a notification) no relay took: retried, and the message it answers is not recorded as handled. */
  "nostr/unsent": "unavailable",
} as const satisfies Record<string, ErrorKind>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && Object.hasOwn(ERROR_CODES, value);
}

/** A code read from the network or another process: itself if this build knows it, else `fallback`. */
export function errorCodeOf(value: unknown, fallback: ErrorCode): ErrorCode {
  return isErrorCode(value) ? value : fallback;
}

export function errorKind(code: ErrorCode): ErrorKind {
  return ERROR_CODES[code];
}
