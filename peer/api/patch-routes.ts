/**
 * The handlers of the HTTP API's patch routes (PATCH_ROUTES in routes.ts).
 * Reads are space queries; changes are the signed patch operations
 * themselves, checked and applied by the space like any from the network.
 * Whether a patch may merge is judged by the same gate every node applies
 * (protocol/patch/readiness.ts), over the runs of its head commit whose
 * manifests this node holds or fetches from a member. A merge whose
 * commits this peer holds is refused here if they do not line up in git.
 */
import type { Hono } from "hono";
import { toBase64 } from "#protocol";
import type { Space } from "#protocol/space";
import { REPO_FAMILY, type RepoReducer, zeroId } from "#protocol/repo";
import {
  mergeReadiness,
  parsePatchOp,
  type Patch,
  PATCH_FAMILY,
  PATCH_OPS,
  type PatchOpArgs,
  type PatchReducer,
  type Readiness,
} from "#protocol/patch";
import { ancestryProblem } from "../repo/merge-ancestry.ts";
import { CID } from "multiformats/cid";
import type { ApiContext } from "./app.ts";
import { dispatch, type Handler } from "./dispatch.ts";
import { HttpError } from "./errors.ts";
import { PATCH_ROUTES } from "./routes.ts";

/** How long finding a run's manifest on connected members may take before it counts as missing. */
const MANIFEST_WAIT_MS = 10_000;

const patchesOf = (space: Space) => space.log.state<PatchReducer>(PATCH_FAMILY);

function patchOf(space: Space, id: string): Patch {
  const patch = patchesOf(space).patches.get(id);
  if (!patch) throw new HttpError(404, "not-found", `no patch ${id} in this space; \`weft patch list\` shows them`);
  return patch;
}

/** Whether `patch` may merge now, from this node's view (its tasks, and manifests it holds or can fetch). */
export function readinessOf(ctx: ApiContext, space: Space, patch: Patch): Promise<Readiness> {
  return mergeReadiness({
    patch,
    policy: patchesOf(space).policyFor(patch.repo),
    tasks: space.log.reducer.tasks.values(),
    manifest: async (cid) =>
      await ctx.artifacts?.manifests.get(CID.parse(cid), { signal: AbortSignal.timeout(MANIFEST_WAIT_MS) }),
    validator: space.authority.validator,
    now: Date.now(),
  });
}

/** Where the patch's target ref points now, as the space agrees (zero: nowhere yet): what a merge moves it from. */
function ontoOf(space: Space, patch: Patch, head: string): string {
  const repo = space.log.state<RepoReducer>(REPO_FAMILY).repos.get(patch.repo);
  return repo?.refs.get(patch.target)?.commit ?? zeroId(head);
}

/** What people and scripts see of a readiness: everything but the evidence bytes. */
const readinessView = (space: Space, patch: Patch, r: Readiness) => ({
  revision: r.revision,
  head: r.head,
  target: patch.target,
  onto: ontoOf(space, patch, r.head),
  checks: r.checks,
  approvals: r.approvals,
  blockers: r.blockers,
  mergeable: r.blockers.length === 0,
});

function patchHandlers(ctx: ApiContext): Record<string, Handler> {
  return {
    "GET /v1/spaces/:space/patches": (c, { space, query }) => {
      const limit = query.limit === undefined ? 100 : Number(query.limit);
      const patches = [...patchesOf(space!).patches.values()]
        .filter((p) =>
          (query.status === undefined || p.status === query.status) &&
          (query.repo === undefined || p.repo === query.repo) &&
          (query.author === undefined || p.author === query.author)
        )
        .sort((a, b) => b.createdAt[0] - a.createdAt[0] || b.createdAt[1] - a.createdAt[1])
        .slice(0, limit)
        .map(({ reviews, revisions, history: _history, ...p }) => ({
          ...p,
          revisions: revisions.length,
          reviews: reviews.length,
          head: revisions[revisions.length - 1].head,
        }));
      return c.json({ patches });
    },
    "GET /v1/spaces/:space/patches/:patch": async (c, { space, params }) => {
      const patch = patchOf(space!, params.patch);
      const readiness = patch.status === "open"
        ? readinessView(space!, patch, await readinessOf(ctx, space!, patch))
        : undefined;
      return c.json({ ...patch, ...(readiness ? { readiness } : {}) });
    },
    "GET /v1/spaces/:space/patches/:patch/merge": async (c, { space, params }) => {
      const patch = patchOf(space!, params.patch);
      const r = await readinessOf(ctx, space!, patch);
      return c.json({ ...readinessView(space!, patch, r), evidence: r.evidence.map(toBase64) });
    },
  };
}

/**
 * Refuse a merge whose commits this peer holds and which do not line up in
 * git (repo/merge-ancestry.ts): the log cannot check that, this peer can.
 * `quarantine` holds the merge commit's objects, uploaded before it.
 */
async function checkAncestry(
  ctx: ApiContext,
  space: Space,
  a: PatchOpArgs<"merge">,
  quarantine: string | undefined,
): Promise<{ path: string; repo: string } | undefined> {
  const patch = patchesOf(space).patches.get(a.patch);
  const revision = patch?.revisions.find((r) => r.id === a.revision);
  const path = patch && await ctx.repos?.repos.existing(space.id, patch.repo);
  if (!patch || !revision || !path) return undefined; // the log judges what this peer cannot
  const env = quarantine ? await ctx.repos!.repos.quarantineEnv(path, quarantine) : undefined;
  const problem = await ancestryProblem(path, { ...a, head: revision.head, target: patch.target }, env);
  if (problem) throw new HttpError(409, "patch/refused", problem);
  return { path, repo: patch.repo };
}

/**
 * A signed patch operation: the space checks and applies it, then answers
 * with the patch after it. A merge with `?quarantine=` brings its merge
 * commit's objects: they move into the repository only once the merge
 * applied, and are dropped if it is refused.
 */
const submitPatchOp = (ctx: ApiContext): Handler => async (c, { op, query }) => {
  const { space, bytes, proofs, invocation } = op!;
  const quarantine = query.quarantine as string | undefined;
  const merge = invocation.cmd === PATCH_OPS.merge.command
    ? parsePatchOp(invocation.cmd, invocation.args, "api", invocation.iss).args as PatchOpArgs<"merge">
    : undefined;
  let held: { path: string; repo: string } | undefined;
  let cid: string, object: string;
  try {
    held = merge ? await checkAncestry(ctx, space, merge, quarantine) : undefined;
    if (quarantine && !held) {
      throw new HttpError(400, "input/invalid", "?quarantine= goes with a merge into a repository this peer holds");
    }
    ({ cid, object } = await space.submitOp(bytes, proofs));
    const outcome = space.log.outcome(cid);
    if (outcome && !outcome.applied) throw new HttpError(409, "patch/refused", outcome.reason);
  } catch (e) {
    if (quarantine && held) await ctx.repos!.repos.discard(held.path, quarantine);
    throw e;
  }
  if (quarantine && held) {
    await ctx.repos!.repos.admit(held.path, quarantine);
    await ctx.repos!.sync(space, held.repo);
  }
  const status = invocation.cmd.endsWith("/propose") ? 201 : 200;
  if (object.startsWith("policy:")) return c.json(patchesOf(space).policyFor(object.slice(7)), status);
  return c.json(patchOf(space, object), status);
};

/** Register the patch routes on the API's hono app. */
export function mountPatchRoutes(app: Hono, ctx: ApiContext): void {
  const handlers = patchHandlers(ctx);
  for (const route of PATCH_ROUTES) {
    const handler = route.auth.kind === "signed" ? submitPatchOp(ctx) : handlers[`${route.method} ${route.path}`];
    if (!handler) throw new Error(`no handler for ${route.method} ${route.path}`);
    app.on(route.method, route.path, async (c) => await dispatch(ctx, route, handler, c));
  }
}
