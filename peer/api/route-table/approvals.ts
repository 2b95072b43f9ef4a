import { Commands } from "#protocol/ucan";
import { APPROVAL_OPS, type ApprovalOpKind } from "#protocol/approvals";
import { object, oneOf, optional } from "#protocol/schema";
import type { Auth, RouteDef } from "./def.ts";
import { q } from "./def.ts";

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
