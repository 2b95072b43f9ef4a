/**
 * The handlers of the repository routes (REPO_ROUTES in routes.ts), over the
 * peer's RepoService. A push comes in two steps: the pack is uploaded
 * (streamed, checked against the sha-256 and size its bearer names) into a
 * quarantine; then the signed `/weft/repo/push` is submitted naming it. The
 * push is judged like any operation; only when it applied do its objects
 * move into the repository and its refs follow — a refused push leaves the
 * repository as it was, and says why. A merge commit goes up the same way
 * (`merge-objects`, under the merge right) before the merge that names it.
 */
import type { Context, Hono } from "hono";
import { createHash } from "node:crypto";
import { InvalidInput } from "#protocol/schema";
import type { Space } from "#protocol/space";
import type { Repository } from "#protocol/repo";
import { startGit } from "../repo/git-child.ts";
import { missingObjects } from "../repo/git-objects.ts";
import type { RepoService } from "../repo/repo-service.ts";
import type { ApiContext } from "./app.ts";
import { dispatch, type Handler } from "./dispatch.ts";
import { repoFileHandlers } from "./repo-file-routes.ts";
import { HttpError } from "./errors.ts";
import { REPO_ROUTES, type RouteDef } from "./routes.ts";

/** The upload routes: a push's objects (push right), a merge commit's (merge right). */
const UPLOADS = new Set([
  "POST /v1/spaces/:space/repos/:repo/objects",
  "POST /v1/spaces/:space/repos/:repo/merge-objects",
]);

/** The largest pack one upload may carry. */
const MAX_PACK_BYTES = 2 * 1024 * 1024 * 1024;

export function repoView(repo: Repository) {
  return {
    name: repo.name,
    defaultBranch: repo.defaultBranch,
    maintainers: repo.maintainers,
    description: repo.description,
    creator: repo.creator,
    createdAt: repo.createdAt,
    refs: Object.fromEntries([...repo.refs].map(([ref, r]) => [ref, r.commit])),
  };
}

export function mountRepoRoutes(app: Hono, ctx: ApiContext, service: RepoService): void {
  const handlers = {
    ...repoHandlers(service),
    ...repoFileHandlers(service, (space, name) => need(service, space, name)),
  };
  for (const route of REPO_ROUTES) {
    const key = `${route.method} ${route.path}`;
    if (UPLOADS.has(key)) {
      app.on(route.method, route.path, (c) => upload(c, ctx, service, route));
    } else app.on(route.method, route.path, (c) => dispatch(ctx, route, handlers[key], c));
  }
}

function need(service: RepoService, space: Space, name: string): Repository {
  const repo = service.repository(space.id, name);
  if (!repo) {
    throw new HttpError(404, "not-found", `no repository ${name} in this space; \`weft repo list\` shows them`);
  }
  return repo;
}

/** Stream the body into a quarantine, hashing as it goes; a mismatch drops it. */
async function upload(c: Context, ctx: ApiContext, service: RepoService, route: RouteDef): Promise<Response> {
  const url = new URL(c.req.url);
  const params = c.req.param() as Record<string, string>;
  const query = route.query!(Object.fromEntries(url.searchParams), "query") as { sha256: string; size: string };
  const { space } = await ctx.auth.query(
    c.req.header("authorization"),
    route as RouteDef & { auth: { kind: "query" } },
    params,
    { method: route.method, path: url.pathname + url.search },
  );
  need(service, space!, params.repo);
  const size = Number(query.size);
  if (size > MAX_PACK_BYTES) throw new HttpError(413, "input/too-large", `a pack is at most ${MAX_PACK_BYTES} bytes`);
  const path = await service.repos.existing(space!.id, params.repo);
  if (!path) throw new HttpError(503, "git/not-found", "this peer has not set up the repository yet; retry");
  const hash = createHash("sha256");
  let seen = 0;
  const body = c.req.raw.body ?? new ReadableStream<Uint8Array>({ start: (ctl) => ctl.close() });
  async function* counted() {
    for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
      seen += chunk.length;
      if (seen > size) throw new InvalidInput("body", `is longer than ?size=${size}`);
      hash.update(chunk);
      yield chunk;
    }
  }
  const id = await service.repos.quarantine(path, counted());
  if (seen !== size || hash.digest("hex") !== query.sha256) {
    await service.repos.discard(path, id);
    throw new InvalidInput("body", "does not match ?sha256= and ?size=");
  }
  return c.json({ quarantine: id }, 201);
}

function repoHandlers(service: RepoService): Record<string, Handler> {
  return {
    "GET /v1/spaces/:space/repos": (c, { space }) =>
      c.json({ repos: [...(service.stateOf(space!)?.repos.values() ?? [])].map(repoView) }),

    "POST /v1/spaces/:space/repos": async (c, { op }) => {
      const { space, bytes, proofs } = op!;
      const { cid, object } = await space.submitOp(bytes, proofs);
      const outcome = space.log.outcome(cid);
      if (outcome && !outcome.applied) throw new HttpError(409, "repo/refused", outcome.reason);
      await service.sync(space, object);
      return c.json(repoView(need(service, space, object)), 201);
    },

    "GET /v1/spaces/:space/repos/:repo": async (c, { space, params }) => {
      const repo = need(service, space!, params.repo);
      const path = await service.repos.existing(space!.id, repo.name);
      return c.json({
        ...repoView(repo),
        local: path ? Object.fromEntries(await service.repos.refs(path)) : {},
        pushes: repo.pushes.slice(-100),
      });
    },

    "POST /v1/spaces/:space/repos/:repo/pushes": async (c, { op, query, params }) => {
      const { space, bytes, proofs } = op!;
      const repo = need(service, space, params.repo);
      const path = await service.repos.existing(space.id, repo.name);
      const quarantine = query.quarantine;
      let cid: string;
      try {
        ({ cid } = await space.submitOp(bytes, proofs));
      } catch (e) {
        if (quarantine && path) await service.repos.discard(path, quarantine);
        throw e;
      }
      const outcome = space.log.outcome(cid);
      if (outcome && !outcome.applied) {
        if (quarantine && path) await service.repos.discard(path, quarantine);
        throw new HttpError(409, "repo/refused", outcome.reason);
      }
      if (quarantine && path) await service.repos.admit(path, quarantine);
      await service.sync(space, repo.name);
      return c.json({ op: cid, ...repoView(need(service, space, repo.name)) });
    },

    "POST /v1/spaces/:space/repos/:repo/pack": async (c, { space, params: p, body }) => {
      need(service, space!, p.repo);
      const path = await service.repos.existing(space!.id, p.repo);
      const { wants, haves = [] } = body as { wants: string[]; haves?: string[] };
      if (!path || (await missingObjects(path, wants)).length > 0) {
        throw new HttpError(404, "git/not-found", "this peer does not hold those commits yet; retry");
      }
      const missing = new Set(await missingObjects(path, haves));
      const revs = [...wants, ...haves.filter((h) => !missing.has(h)).map((h) => `^${h}`)];
      const git = await startGit(["-C", path, "pack-objects", "--revs", "--stdout", "--quiet"]);
      git.stdin.end(revs.join("\n") + "\n");
      c.req.raw.signal.addEventListener("abort", () => git.kill());
      if (c.req.raw.signal.aborted) git.kill();
      const out = git.stdout;
      return new Response(
        new ReadableStream<Uint8Array>({
          start(ctl) {
            out.on("data", (b: Buffer) => ctl.enqueue(new Uint8Array(b)));
            out.on(
              "end",
              () => void git.exited.then((code) => (code === 0 ? ctl.close() : ctl.error(new Error(git.stderr())))),
            );
          },
          cancel: () => git.kill(),
        }),
        { headers: { "content-type": "application/x-git-packfile" } },
      );
    },
  };
}
