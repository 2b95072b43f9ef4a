import { Commands } from "#protocol/ucan";
import { PATCH_OPS, type PatchOpKind } from "#protocol/patch";
import { object, oneOf, optional, str } from "#protocol/schema";
import type { Auth, RouteDef } from "./def.ts";
import { q } from "./def.ts";
import { did } from "./checks.ts";

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
