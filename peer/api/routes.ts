/**
 * The HTTP API's routes, as data: method, path, what authorizes a call,
 * and the checks on its input. The server, the client, the CLI and the
 * OpenAPI document are all built from this one table. The core routes
 * (node, spaces, tasks) are here; each other area's are in route-table/.
 *
 * Two ways a call is authorized:
 *  - `query`: the bearer is an invocation of `command` addressed to this
 *    node, on the node's DID (`scope: "node"`) or the space's DID, with
 *    args `{method, path}` naming the very request (and short expiry).
 *  - `op`: the bearer is the signed task operation itself; the node checks
 *    and applies it like one from the network. Its author is the caller.
 */
import { Commands } from "#protocol/ucan";
import { bool, int, list, object, oneOf, optional, plainName, required, str } from "#protocol/schema";
import { op, q, type RouteDef } from "./route-table/def.ts";
import { command, did, GRANT, isoTime, STATUS } from "./route-table/checks.ts";
import { agentRoutes } from "./route-table/agents.ts";
import { ARTIFACT_ROUTES } from "./route-table/artifacts.ts";
import { REPO_ROUTES } from "./route-table/repos.ts";
import { PATCH_ROUTES } from "./route-table/patches.ts";
import { APPROVAL_ROUTES } from "./route-table/approvals.ts";
import { EDITOR_ROUTES } from "./route-table/editors.ts";
import { KUBE_ROUTES } from "./route-table/kube.ts";

export type { Auth, RouteDef } from "./route-table/def.ts";
export { ARTIFACT_ROUTES } from "./route-table/artifacts.ts";
export { REPO_ROUTES } from "./route-table/repos.ts";
export { PATCH_ROUTES, patchOpPath } from "./route-table/patches.ts";
export { APPROVAL_ROUTES, approvalOpPath } from "./route-table/approvals.ts";
export { EDITOR_ROUTES } from "./route-table/editors.ts";

/** Response headers of space routes: the heads of the space's operation log, and their latest time (`ms.counter`). */
export const HEADS_HEADER = "weft-heads";
export const HEADS_AT_HEADER = "weft-heads-at";

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
    method: "POST",
    path: "/v1/sessions",
    summary:
      "Open an API session: the bearer is a query invocation of the command the session is for, on a space or this node, " +
      "naming this request; `key` is the client's X25519 public key (base64url). Answers the session's id, the peer's key " +
      "and when it ends; later queries send `Authorization: WeftSession <id>.<counter>.<HMAC>` (peer/api/session-crypto.ts)",
    auth: { kind: "none" },
    body: object({ key: required(str(43, 43, /^[A-Za-z0-9_-]+$/)) }),
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
  ...KUBE_ROUTES,
];

/** Every route the API serves, in the order they are matched and documented. */
export const ALL_ROUTES: RouteDef[] = [
  ...ROUTES,
  ...ARTIFACT_ROUTES,
  ...REPO_ROUTES,
  ...PATCH_ROUTES,
  ...APPROVAL_ROUTES,
  ...EDITOR_ROUTES,
];

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
  for (const route of ALL_ROUTES) {
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
