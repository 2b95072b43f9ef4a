import { Commands } from "#protocol/ucan";
import { list, object, oneOf, optional, required, str } from "#protocol/schema";
import { SHA256_HEX } from "#protocol/artifacts";
import { q, type RouteDef } from "./def.ts";
import { count, REF_OR_COMMIT } from "./checks.ts";

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
    path: "/v1/spaces/:space/repos/:repo/merge-objects",
    summary:
      "Upload a merge commit's pack into a quarantine for a patch merge to name: the objects route for holders of " +
      "/weft/patch/merge, who need no push right to land a merge commit",
    auth: q(Commands.patchMerge),
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
