/**
 * The handlers of the HTTP API's approval routes (APPROVAL_ROUTES in
 * routes.ts). Reads show the space's gates and each request's plan in full
 * with its hash — exactly what an approval is bound to; changes are the
 * signed approval operations themselves, checked and applied by the space
 * like any from the network.
 */
import type { Hono } from "hono";
import type { Space } from "#protocol/space";
import { APPROVAL_FAMILY, type ApprovalReducer, type ApprovalRequest } from "#protocol/approvals";
import type { ApiContext } from "./app.ts";
import { dispatch, type Handler } from "./dispatch.ts";
import { HttpError } from "./errors.ts";
import { APPROVAL_ROUTES } from "./routes.ts";
import { Commands } from "#protocol/ucan";

const approvalsOf = (space: Space) => space.log.state<ApprovalReducer>(APPROVAL_FAMILY);

function requestOf(space: Space, id: string): ApprovalRequest {
  const r = approvalsOf(space).requests.get(id);
  if (!r) throw new HttpError(404, "not-found", `no approval request ${id} in this space; \`weft agent approvals\``);
  return r;
}

const ORDER = { pending: 0, approved: 1, denied: 2 } as const;

const handlers: Record<string, Handler> = {
  "GET /v1/spaces/:space/approvals": (c, { space, query }) => {
    const state = approvalsOf(space!);
    const status = query?.status as ApprovalRequest["status"] | undefined;
    const requests = [...state.requests.values()]
      .filter((r) => status === undefined || r.status === status)
      .sort((a, b) => ORDER[a.status] - ORDER[b.status] || b.at[0] - a.at[0]);
    return Promise.resolve(c.json({ gates: state.gates ?? null, requests }));
  },
  "GET /v1/spaces/:space/approvals/:request": (c, { space, params }) =>
    Promise.resolve(c.json(requestOf(space!, params.request))),
};

/** A signed approval operation: the space checks and applies it, then answers with what it acted on. */
const submitApprovalOp: Handler = async (c, { op }) => {
  const { space, bytes, proofs } = op!;
  const { cid, object } = await space.submitOp(bytes, proofs);
  const outcome = space.log.outcome(cid);
  if (outcome && !outcome.applied) throw new HttpError(409, "task/conflict", outcome.reason);
  if (object === "gates") return c.json(approvalsOf(space).gates ?? null);
  return c.json(requestOf(space, object), op!.invocation.cmd === APPROVAL_REQUEST ? 201 : 200);
};

const APPROVAL_REQUEST = Commands.approvalRequest;

/** Register the approval routes on the API's hono app. */
export function mountApprovalRoutes(app: Hono, ctx: ApiContext): void {
  for (const route of APPROVAL_ROUTES) {
    const handler = route.auth.kind === "signed" ? submitApprovalOp : handlers[`${route.method} ${route.path}`];
    if (!handler) throw new Error(`no handler for ${route.method} ${route.path}`);
    app.on(route.method, route.path, async (c) => await dispatch(ctx, route, handler, c));
  }
}
