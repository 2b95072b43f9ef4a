/**
 * The HTTP API's routes, as data: method, path, what authorizes a call,
 * and the checks on its input. The server, the client, the CLI and the
 * OpenAPI document are all built from this one table.
 *
 * Two ways a call is authorized:
 *  - `query`: the bearer is an invocation of `command` addressed to this
 *    node, on the node's DID (`scope: "node"`) or the space's DID, with
 *    args `{method, path}` naming the very request (and short expiry).
 *  - `op`: the bearer is the signed task operation itself; the node checks
 *    and applies it like one from the network. Its author is the caller.
 */
import { commandProblem, Commands, parsePolicy } from "#protocol/ucan";
import type { OpKind } from "#protocol/tasks";
import { PATCH_OPS, type PatchOpKind } from "#protocol/patch";
import { APPROVAL_OPS, type ApprovalOpKind } from "#protocol/approvals";
import {
  bool,
  type Check,
  check,
  int,
  InvalidInput,
  list,
  object,
  oneOf,
  optional,
  plainName,
  required,
  str,
} from "#protocol/schema";
import { isWeftError } from "#protocol";
import { SHA256_HEX } from "#protocol/artifacts";

/** Response headers of space routes: the heads of the space's operation log, and their latest time (`ms.counter`). */
export const HEADS_HEADER = "weft-heads";
export const HEADS_AT_HEADER = "weft-heads-at";

export type Auth =
  | { kind: "none" }
  | { kind: "query"; scope: "node" | "space"; command: string }
  | { kind: "op"; op: OpKind }
  /** The bearer is a signed operation of another family (a repository push), checked like `op`. */
  | { kind: "signed"; command: string };

export interface RouteDef {
  method: "GET" | "POST" | "PATCH" | "DELETE";
  path: string;
  summary: string;
  auth: Auth;
  query?: Check<unknown>;
  body?: Check<unknown>;
  /** A WebSocket endpoint. */
  websocket?: boolean;
}

const q = (command: string, scope: "node" | "space" = "space"): Auth => ({ kind: "query", scope, command });
const op = (kind: OpKind): Auth => ({ kind: "op", op: kind });

const STATUS = oneOf("open", "claimed", "running", "review", "done", "failed", "cancelled");
const did = str(16, 128, /^did:key:z[1-9A-HJ-NP-Za-km-z]+$/);
/** A command to delegate: valid UCAN, and no empty, `.` or `..` segment that could read as a path. */
const command: Check<string> = check((v, field) => {
  const problem = commandProblem(v);
  if (problem) throw new InvalidInput(field, `is not a valid command: ${problem}`);
  const cmd = v as string;
  if (cmd !== "/" && cmd.slice(1).split("/").some((seg) => seg === "." || seg === "..")) {
    throw new InvalidInput(
      field,
      `must not have "." or ".." segments (${JSON.stringify(cmd)}); name the command itself`,
    );
  }
  return cmd;
}, { type: "string", minLength: 1, maxLength: 256, pattern: "^/", description: "a UCAN command, e.g. /weft/task" });
/** A point in time written in ISO 8601 (e.g. 2026-12-02T03:00:00Z), read as Unix ms; not in the future. */
const isoTime: Check<number> = check((v, field) => {
  const ms = typeof v === "string" && v.length <= 64 ? Date.parse(v) : NaN;
  if (!Number.isFinite(ms)) throw new InvalidInput(field, "must be an ISO 8601 time, e.g. 2026-12-02T03:00:00Z");
  if (ms > Date.now()) {
    throw new InvalidInput(field, "is in the future: name when the key was (or may have been) stolen");
  }
  return ms;
}, { type: "string", format: "date-time" });

/** A UCAN policy: a list of statements, checked by the policy parser itself. */
const policy: Check<unknown[]> = check((v, field) => {
  try {
    return parsePolicy(v).source as unknown[];
  } catch (e) {
    throw new InvalidInput(field, `is not a valid policy: ${isWeftError(e) ? e.message : e}`);
  }
}, { type: "array", items: { type: "array" }, description: "UCAN 1.0 policy statements" });

/** What a delegation from this node says: to whom, what, under which policy, until when, and what to call it. */
const GRANT = {
  audience: required(did),
  command: required(command),
  policy: optional(policy),
  expiration: optional(int(0, 2 ** 40)),
  name: optional(plainName(64)),
  kind: optional(oneOf("member", "device", "agent")),
};

export const ROUTES: RouteDef[] = [
  { method: "GET", path: "/healthz", summary: "The process is alive", auth: { kind: "none" } },
  { method: "GET", path: "/readyz", summary: "The node is serving", auth: { kind: "none" } },
  { method: "GET", path: "/metrics", summary: "Prometheus metrics", auth: { kind: "none" } },
  { method: "GET", path: "/openapi.json", summary: "This API, as OpenAPI 3.1", auth: { kind: "none" } },

  { method: "GET", path: "/v1/node", summary: "This node: DID, name, addresses", auth: q(Commands.nodeRead, "node") },
  { method: "GET", path: "/v1/peers", summary: "Connected peers", auth: q(Commands.nodeRead, "node") },
  {
    method: "POST",
    path: "/v1/peers",
    summary: "Connect to a peer (multiaddr or ws:// URL) and keep reconnecting",
    auth: q(Commands.nodeAdmin, "node"),
    body: object({ address: required(str(1, 1024)) }),
  },
  {
    method: "GET",
    path: "/v1/capacity",
    summary: "Capacity adverts of live nodes",
    auth: q(Commands.nodeRead, "node"),
  },
  { method: "GET", path: "/v1/spaces", summary: "Spaces this node is in", auth: q(Commands.nodeRead, "node") },
  {
    method: "POST",
    path: "/v1/spaces",
    summary: "Create a space",
    auth: q(Commands.nodeAdmin, "node"),
    /** graceSeconds: how long work signed just before its authority ended may wait to be seen (protocol/README.md, "Time"). */
    body: object({ name: required(plainName(200)), graceSeconds: optional(int(0, 7 * 24 * 3600)) }),
  },
  {
    method: "POST",
    path: "/v1/spaces/join",
    summary: "Join a space with an invite",
    auth: q(Commands.nodeAdmin, "node"),
    body: object({ invite: required(str(16, 65_536)), peers: optional(list(str(1, 1024), 16)) }),
  },

  { method: "GET", path: "/v1/spaces/:space", summary: "A space", auth: q(Commands.spaceRead) },
  { method: "GET", path: "/v1/spaces/:space/members", summary: "Members and devices", auth: q(Commands.spaceRead) },
  {
    method: "GET",
    path: "/v1/spaces/:space/diagnostics",
    summary: "Refused operations and messages: who sent what, and why",
    auth: q(Commands.spaceRead),
  },
  {
    method: "GET",
    path: "/v1/spaces/:space/tasks",
    summary: "List and filter tasks",
    auth: q(Commands.spaceRead),
    query: object({
      status: optional(STATUS),
      label: optional(str(1, 64)),
      assignee: optional(did),
      runnable: optional(oneOf("true", "false")),
      text: optional(str(1, 200)),
      limit: optional(str(1, 6, /^\d+$/)),
    }),
  },
  { method: "GET", path: "/v1/spaces/:space/tasks/:task", summary: "One task", auth: q(Commands.spaceRead) },
  { method: "GET", path: "/v1/spaces/:space/graph", summary: "The dependency graph", auth: q(Commands.spaceRead) },
  { method: "POST", path: "/v1/spaces/:space/tasks", summary: "Create a task (signed op)", auth: op("create") },
  { method: "PATCH", path: "/v1/spaces/:space/tasks/:task", summary: "Edit a task (signed op)", auth: op("edit") },
  { method: "POST", path: "/v1/spaces/:space/tasks/:task/labels", summary: "Add or remove labels", auth: op("label") },
  {
    method: "POST",
    path: "/v1/spaces/:space/tasks/:task/dependencies",
    summary: "Add or remove a dependency",
    auth: op("dependency"),
  },
  { method: "POST", path: "/v1/spaces/:space/tasks/:task/comments", summary: "Comment", auth: op("comment") },
  { method: "POST", path: "/v1/spaces/:space/tasks/:task/claim", summary: "Claim (take a lease)", auth: op("claim") },
  { method: "POST", path: "/v1/spaces/:space/tasks/:task/renew", summary: "Renew the lease", auth: op("renew") },
  { method: "POST", path: "/v1/spaces/:space/tasks/:task/release", summary: "Release the lease", auth: op("release") },
  { method: "POST", path: "/v1/spaces/:space/tasks/:task/start", summary: "Mark running", auth: op("start") },
  { method: "POST", path: "/v1/spaces/:space/tasks/:task/result", summary: "Report the result", auth: op("result") },
  { method: "POST", path: "/v1/spaces/:space/tasks/:task/review", summary: "Approve or reject", auth: op("review") },
  { method: "POST", path: "/v1/spaces/:space/tasks/:task/close", summary: "Close by hand", auth: op("close") },
  { method: "POST", path: "/v1/spaces/:space/tasks/:task/cancel", summary: "Cancel", auth: op("cancel") },

  {
    method: "POST",
    path: "/v1/spaces/:space/schedule",
    summary:
      "Submit a run: a signed create op with a run spec; a retry with the same idempotency key returns the first",
    auth: op("create"),
  },
  {
    method: "POST",
    path: "/v1/spaces/:space/evict",
    summary: "Evict a run: a signed cancel op; the node running it stops it",
    auth: op("cancel"),
  },
  {
    method: "GET",
    path: "/v1/spaces/:space/pods",
    summary: "Runs: node, state, start and end, resources",
    auth: q(Commands.spaceRead),
    query: object({
      state: optional(oneOf("queued", "claimed", "running", "succeeded", "failed", "review", "cancelled")),
      node: optional(did),
      limit: optional(str(1, 6, /^\d+$/)),
    }),
  },
  { method: "GET", path: "/v1/spaces/:space/pods/:task", summary: "One run", auth: q(Commands.spaceRead) },
  {
    method: "GET",
    path: "/v1/spaces/:space/pods/:task/logs",
    summary: "A run's log as NDJSON lines, from the node running it; follow=true streams until it ends",
    auth: q(Commands.spaceRead),
    query: object({ follow: optional(oneOf("true", "false")) }),
  },

  {
    method: "POST",
    path: "/v1/spaces/:space/invites",
    summary: "Make an invite (addressed to a DID, or a link)",
    auth: q(Commands.spaceAdmin),
    body: object({
      audience: optional(did),
      command: optional(command),
      expiration: optional(int(0, 2 ** 40)),
      name: optional(plainName(64)),
      peers: optional(list(str(1, 1024), 16)),
    }),
  },
  {
    method: "POST",
    path: "/v1/spaces/:space/sync-tokens",
    summary:
      "A sync token for stock automerge-repo clients (`/v1/sync?token=`): usable again until it expires (12 h by default, 30 days at most), ended by revoking its `cid`",
    auth: q(Commands.spaceAdmin),
    body: object({ expiration: optional(int(0, 2 ** 40)), name: optional(plainName(64)) }),
  },
  {
    method: "GET",
    path: "/v1/spaces/:space/capabilities",
    summary: "Delegations in the space",
    auth: q(Commands.spaceRead),
  },
  {
    method: "POST",
    path: "/v1/capabilities",
    summary: "Delegate a powerline: this node's authority in every space it is in (node admins only)",
    auth: q(Commands.nodeAdmin, "node"),
    body: object(GRANT),
  },
  {
    method: "GET",
    path: "/v1/capabilities",
    summary: "Powerlines this node issued, with whether each is revoked (node admins only)",
    auth: q(Commands.nodeAdmin, "node"),
  },
  {
    method: "DELETE",
    path: "/v1/capabilities/:cid",
    summary:
      "Revoke a powerline this node issued: refused by this node at once (durably) and by every member once the revocation reaches it",
    auth: q(Commands.nodeAdmin, "node"),
  },
  {
    method: "POST",
    path: "/v1/cli-key",
    summary:
      "Rotate the local CLI's key: new credentials in cli.json; the old key's delegations revoked here and in every space",
    auth: q(Commands.nodeAdmin, "node"),
  },
  {
    method: "POST",
    path: "/v1/spaces/:space/capabilities",
    summary:
      "Delegate a capability you hold in the space (attenuated) from this node; `pairing` (a bridge's one-time code) confirms a pairing with that bridge, as a proof in the delegation's meta",
    auth: q(Commands.spaceAdmin),
    body: object({ ...GRANT, powerline: optional(bool), pairing: optional(str(4, 64)) }),
  },
  {
    method: "DELETE",
    path: "/v1/spaces/:space/capabilities/:cid",
    summary:
      "Revoke a delegation: its holder loses access now; what it signed before stays. `voidSince` (ISO 8601) also voids what it signed from then on (a stolen key)",
    auth: q(Commands.spaceAdmin),
    body: object({ voidSince: optional(isoTime) }),
  },

  {
    method: "GET",
    path: "/v1/identity",
    summary: "This node's DID (public: it is also its libp2p PeerId), for clients that sign requests to it",
    auth: { kind: "none" },
  },
  {
    method: "GET",
    path: "/v1/invites",
    summary:
      "Invites addressed to the caller, in this node's spaces; the bearer is the caller's own invocation of /weft/invite/read on its DID (no proofs)",
    auth: { kind: "none" },
  },
  {
    method: "POST",
    path: "/v1/pairings",
    summary: "A one-time, short-lived link that makes a browser a device of this node's spaces (node admins only)",
    auth: q(Commands.nodeAdmin, "node"),
  },
  {
    method: "POST",
    path: "/v1/pair",
    summary: "Redeem a pairing code: invites addressed to `audience` as a device in this node's spaces (once per code)",
    auth: { kind: "none" },
    body: object({
      code: required(str(43, 43, /^[A-Za-z0-9_-]+$/)),
      audience: required(did),
      name: optional(plainName(64)),
    }),
  },

  {
    method: "GET",
    path: "/v1/stream",
    summary: "Live events (WebSocket; token in ?token=)",
    auth: q(Commands.nodeRead, "node"),
    websocket: true,
  },
  {
    method: "GET",
    path: "/v1/sync",
    summary: "Document sync (WebSocket): the Weft session protocol, or stock automerge-repo with ?token=",
    auth: { kind: "none" },
    websocket: true,
  },
  ...agentRoutes(),
];

/** The agents this peer runs in a space (peer/agents, agent-routes.ts): make, list, show, pause, resume, revoke. */
function agentRoutes(): RouteDef[] {
  const base = "/v1/spaces/:space/agents";
  const amount = int(0, Number.MAX_SAFE_INTEGER);
  const cost = object({ usd: required(amount), tokens: required(amount), model: optional(str(1, 200)) });
  return [
    {
      method: "GET",
      path: base,
      summary: "The agents this peer runs in the space, and what each spent",
      auth: q(Commands.spaceRead),
    },
    {
      method: "POST",
      path: base,
      summary:
        "Make an agent on this peer: a key in a 0600 file and delegations, bounded by yours, to claim tasks with its labels, comment, push under refs/heads/agent/<name>/, propose patches, run its runner kinds and spend within its budget",
      auth: q(Commands.spaceAdmin),
      body: object({
        name: required(str(1, 32, /^[a-z0-9][a-z0-9-]{0,31}$/)),
        labels: required(list(str(1, 64, /^[^\s,]{1,64}$/), 32)),
        runners: optional(list(str(1, 32, /^[a-z0-9-]+$/), 16)),
        budget: required(object({ usd: optional(amount), tokens: optional(amount), dayUsd: optional(amount) })),
        expiration: optional(int(0, 2 ** 40)),
        /** Its loop starts with the daemon and picks tasks by itself. */
        run: optional(bool),
      }),
    },
    {
      method: "GET",
      path: `${base}/:name`,
      summary: "An agent: what it holds, its budget spent and left, its spend per task, paused or revoked",
      auth: q(Commands.spaceRead),
    },
    {
      method: "POST",
      path: `${base}/:name/pause`,
      summary: "Pause an agent: its calls and jobs stop here, and every node refuses its later operations",
      auth: q(Commands.agentPause),
      body: object({ reason: optional(str(0, 2000)) }),
    },
    { method: "POST", path: `${base}/:name/resume`, summary: "Resume a paused agent", auth: q(Commands.agentResume) },
    {
      method: "POST",
      path: `${base}/:name/run`,
      summary:
        "One pass of the agent's loop on this peer (its operator: node admins only): claim an eligible task, work on it with the model, run its tests in a container and propose a patch, or comment and release; answers how it ended",
      auth: q(Commands.nodeAdmin, "node"),
      body: object({ turns: optional(int(1, 200)), wallSeconds: optional(int(10, 3600)) }),
    },
    {
      method: "DELETE",
      path: `${base}/:name`,
      summary: "Revoke every delegation of an agent: for good, on every node",
      auth: q(Commands.spaceAdmin),
    },
    {
      method: "POST",
      path: `${base}/:name/reservations`,
      summary:
        "Reserve the most a model call of the agent may cost, for a task (its operator: node admins only); refused with budget/exhausted when a budget has no room",
      auth: q(Commands.nodeAdmin, "node"),
      body: object({
        task: required(str(8, 40, /^[a-z0-9]+$/)),
        usd: required(amount),
        tokens: required(amount),
        model: optional(str(1, 200)),
      }),
    },
    {
      method: "POST",
      path: `${base}/:name/reservations/:reservation/settle`,
      summary: "Settle a reservation with what the call cost (a signed receipt)",
      auth: q(Commands.nodeAdmin, "node"),
      body: cost,
    },
  ];
}

/**
 * The artifact routes: space queries like the rest, but their bodies and
 * answers stream (artifact-routes.ts serves them, when the peer has an
 * artifact service), so an upload's invocation names its sha-256 and size
 * in the query instead of a body digest.
 */
export const ARTIFACT_ROUTES: RouteDef[] = [
  {
    method: "GET",
    path: "/v1/spaces/:space/artifacts",
    summary: "Manifests the space's tasks record, and artifacts put in the space",
    auth: q(Commands.artifactGet),
  },
  {
    method: "POST",
    path: "/v1/spaces/:space/artifacts",
    summary: "Upload an artifact: the raw body, streamed; it must match ?sha256= and ?size= or nothing is kept",
    auth: q(Commands.artifactPut),
    query: object({ sha256: required(str(64, 64, SHA256_HEX)), size: required(str(1, 16, /^\d+$/)) }),
  },
  {
    method: "GET",
    path: "/v1/spaces/:space/artifacts/:cid",
    summary: "By raw CID: the artifact's bytes (Range: bytes=N- resumes). By manifest CID: the verified manifest",
    auth: q(Commands.artifactGet),
  },
  {
    method: "GET",
    path: "/v1/spaces/:space/artifacts/:cid/verify",
    summary: "Verify a manifest: its signature, the runner's run capability, and every byte of its outputs",
    auth: q(Commands.artifactGet),
  },
];

/** A ref (full, or a branch or tag name) or a commit id, as the file routes take it: no git revision syntax. */
const REF_OR_COMMIT = str(1, 255, /^(?!-)[A-Za-z0-9._\/-]+$/);
/** A whole number from `min` to `max`, as a query parameter (text). */
const count = (min: number, max: number) =>
  check((v, field) => {
    const n = Number(str(1, 12, /^\d+$/)(v, field));
    if (n < min || n > max) throw new InvalidInput(field, `must be a whole number from ${min} to ${max}`);
    return String(n);
  }, { type: "string", pattern: "^\\d+$" });

/**
 * The repository routes (repo-routes.ts serves them): creating and pushing
 * are signed operations; objects go up as a pack into a quarantine before the
 * push that names them, and come down as a pack of what a fetch wants.
 */
export const REPO_ROUTES: RouteDef[] = [
  {
    method: "GET",
    path: "/v1/spaces/:space/repos",
    summary: "The space's repositories: default branch, maintainers, refs",
    auth: q(Commands.spaceRead),
  },
  {
    method: "POST",
    path: "/v1/spaces/:space/repos",
    summary: "Create a repository: the bearer is the signed /weft/repo/create operation",
    auth: { kind: "signed", command: Commands.repoCreate },
  },
  {
    method: "GET",
    path: "/v1/spaces/:space/repos/:repo",
    summary: "A repository: its refs as the space agrees on them, this peer's copy, and its pushes (refused ones too)",
    auth: q(Commands.spaceRead),
  },
  {
    method: "POST",
    path: "/v1/spaces/:space/repos/:repo/objects",
    summary: "Upload a pack (streamed; it must match ?sha256= and ?size=) into a quarantine for a push to name",
    auth: q(Commands.repoPush),
    query: object({ sha256: required(str(64, 64, SHA256_HEX)), size: required(str(1, 12, /^\d+$/)) }),
  },
  {
    method: "POST",
    path: "/v1/spaces/:space/repos/:repo/pushes",
    summary: "Push: the bearer is the signed /weft/repo/push; ?quarantine= names the uploaded objects it needs",
    auth: { kind: "signed", command: Commands.repoPush },
    query: object({ quarantine: optional(str(32, 32, /^[0-9a-f]{32}$/)) }),
  },
  {
    method: "POST",
    path: "/v1/spaces/:space/repos/:repo/pack",
    summary: "A pack of the objects reachable from body.wants and not from body.haves (what this peer has of them)",
    auth: q(Commands.spaceRead),
    body: object({
      wants: required(list(str(40, 64, /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/), 256)),
      haves: optional(list(str(40, 64, /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/), 1024)),
    }),
  },
  {
    method: "GET",
    path: "/v1/spaces/:space/repos/:repo/files",
    summary: "A directory's entries at a ref or commit (default: the default branch), paged",
    auth: q(Commands.spaceRead),
    query: object({
      ref: optional(REF_OR_COMMIT),
      path: optional(str(0, 1024)),
      cursor: optional(count(0, 1_000_000)),
      limit: optional(count(1, 1000)),
    }),
  },
  {
    method: "GET",
    path: "/v1/spaces/:space/repos/:repo/file",
    summary: "A page of a file's lines at a ref or commit (binary files say so and give none)",
    auth: q(Commands.spaceRead),
    query: object({
      ref: optional(REF_OR_COMMIT),
      path: required(str(1, 1024)),
      from: optional(count(1, 100_000_000)),
      limit: optional(count(1, 5000)),
    }),
  },
  {
    method: "GET",
    path: "/v1/spaces/:space/repos/:repo/search",
    summary: "Lines holding a fixed string in the text files at a ref or commit, paged",
    auth: q(Commands.spaceRead),
    query: object({
      ref: optional(REF_OR_COMMIT),
      text: required(str(1, 200)),
      under: optional(str(1, 1024)),
      case: optional(oneOf("match", "ignore")),
      cursor: optional(count(0, 1_000_000)),
      limit: optional(count(1, 200)),
    }),
  },
];

const patchOp = (kind: PatchOpKind): Auth => ({ kind: "signed", command: PATCH_OPS[kind].command });

/**
 * The patch routes (patch-routes.ts serves them): reads are space queries,
 * changes are the signed patch operations themselves. A merge's bearer
 * carries the manifests of the runs that pass its checks.
 */
export const PATCH_ROUTES: RouteDef[] = [
  {
    method: "GET",
    path: "/v1/spaces/:space/patches",
    summary: "List patches, newest first",
    auth: q(Commands.spaceRead),
    query: object({
      status: optional(oneOf("open", "closed", "merged")),
      repo: optional(str(1, 100)),
      author: optional(did),
      limit: optional(str(1, 6, /^\d+$/)),
    }),
  },
  {
    method: "GET",
    path: "/v1/spaces/:space/patches/:patch",
    summary: "One patch: revisions, reviews with their anchored comments, its merge, and whether it may merge now",
    auth: q(Commands.spaceRead),
  },
  {
    method: "GET",
    path: "/v1/spaces/:space/patches/:patch/merge",
    summary:
      "What a merge of the latest revision needs: each required check (passed, failed or missing, and why) and the verified run manifests (base64) a merge carries as evidence",
    auth: q(Commands.spaceRead),
  },
  {
    method: "POST",
    path: "/v1/spaces/:space/patches",
    summary: "Propose a patch (signed op)",
    auth: patchOp("propose"),
  },
  {
    method: "POST",
    path: "/v1/spaces/:space/patches/:patch/revisions",
    summary: "A new revision (signed op; the patch's author only)",
    auth: patchOp("revise"),
  },
  {
    method: "POST",
    path: "/v1/spaces/:space/patches/:patch/reviews",
    summary: "Review a revision: comments anchored to file and line, approve, or request changes (signed op)",
    auth: patchOp("review"),
  },
  {
    method: "POST",
    path: "/v1/spaces/:space/patches/:patch/merge",
    summary: "Merge (signed op carrying its evidence): refused on every node unless the required checks passed; " +
      "?quarantine= names the uploaded objects of a merge commit (POST …/repos/:repo/objects)",
    auth: patchOp("merge"),
    query: object({ quarantine: optional(str(32, 32, /^[0-9a-f]{32}$/)) }),
  },
  {
    method: "POST",
    path: "/v1/spaces/:space/patches/:patch/close",
    summary: "Close (signed op)",
    auth: patchOp("close"),
  },
  {
    method: "POST",
    path: "/v1/spaces/:space/patches/:patch/reopen",
    summary: "Reopen a closed patch (signed op)",
    auth: patchOp("reopen"),
  },
  {
    method: "POST",
    path: "/v1/spaces/:space/patch-policies",
    summary: "Set the checks and approvals a repository's patches need to merge (signed op)",
    auth: patchOp("policy"),
  },
];

/** The route a signed patch operation of `kind` goes to (PATCH_ROUTES). */
export function patchOpPath(space: string, kind: PatchOpKind, args: { patch?: string }): string {
  const base = `/v1/spaces/${encodeURIComponent(space)}`;
  if (kind === "propose") return `${base}/patches`;
  if (kind === "policy") return `${base}/patch-policies`;
  const tail = kind === "revise" ? "revisions" : kind === "review" ? "reviews" : kind;
  return `${base}/patches/${encodeURIComponent(args.patch ?? "")}/${tail}`;
}

/** A percent-decoded path segment, or undefined when its encoding is malformed. */
function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** Match a concrete path against the route table. */
export function matchRoute(
  method: string,
  path: string,
): { route: RouteDef; params: Record<string, string> } | undefined {
  const parts = path.split("?")[0].split("/");
  for (const route of [...ROUTES, ...ARTIFACT_ROUTES, ...REPO_ROUTES, ...PATCH_ROUTES, ...APPROVAL_ROUTES]) {
    if (route.method !== method) continue;
    const pattern = route.path.split("/");
    if (pattern.length !== parts.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < pattern.length; i++) {
      if (pattern[i].startsWith(":")) {
        const value = decodeSegment(parts[i]);
        if (value === undefined) {
          ok = false;
          break;
        }
        params[pattern[i].slice(1)] = value;
      } else if (pattern[i] !== parts[i]) {
        ok = false;
        break;
      }
    }
    if (ok) return { route, params };
  }
  return undefined;
}

const approvalOp = (kind: ApprovalOpKind): Auth => ({ kind: "signed", command: APPROVAL_OPS[kind].command });

/**
 * The approval routes (approval-routes.ts serves them): reads are space
 * queries showing each request's plan in full with its hash; changes are
 * the signed approval operations themselves, signed by the person's (or
 * agent's) own key, checked and applied like any from the network.
 */
export const APPROVAL_ROUTES: RouteDef[] = [
  {
    method: "GET",
    path: "/v1/spaces/:space/approvals",
    summary: "The space's approval gates, and agents' requests (pending first) with their plans and hashes",
    auth: q(Commands.spaceRead),
    query: object({ status: optional(oneOf("pending", "approved", "denied")) }),
  },
  {
    method: "GET",
    path: "/v1/spaces/:space/approvals/:request",
    summary: "One request: the plan exactly as it will be approved, its sha-256, and its answer",
    auth: q(Commands.spaceRead),
  },
  {
    method: "POST",
    path: "/v1/spaces/:space/approvals",
    summary: "An agent asks for an approval: the plan, its sha-256 and its scope (signed op)",
    auth: approvalOp("request"),
  },
  {
    method: "POST",
    path: "/v1/spaces/:space/approvals/:request/approve",
    summary: "Approve a request, naming its plan's hash and an expiry (signed op; holders of /weft/agent/approve)",
    auth: approvalOp("approve"),
  },
  {
    method: "POST",
    path: "/v1/spaces/:space/approvals/:request/deny",
    summary: "Deny a request, saying why (signed op)",
    auth: approvalOp("deny"),
  },
  {
    method: "POST",
    path: "/v1/spaces/:space/approval-gates",
    summary:
      "Set which steps of agents need a person's approval: network jobs, pushes to refs, spending past a threshold (signed op; admins)",
    auth: approvalOp("gates"),
  },
];

/** The route a signed approval operation of `kind` goes to (APPROVAL_ROUTES). */
export function approvalOpPath(space: string, kind: ApprovalOpKind, args: { request?: string }): string {
  const base = `/v1/spaces/${encodeURIComponent(space)}`;
  if (kind === "gates") return `${base}/approval-gates`;
  if (kind === "request") return `${base}/approvals`;
  return `${base}/approvals/${encodeURIComponent(args.request ?? "")}/${kind}`;
}
