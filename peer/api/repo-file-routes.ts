/**
 * The handlers of the repository file routes (REPO_ROUTES in routes.ts):
 * a directory's entries, a page of a file's lines and a search, at a ref
 * or commit, from this peer's bare copy (repo/repo-files.ts), for members
 * that hold no clone. A ref is resolved against the refs the space agrees
 * on, never by git's revision syntax; a commit id must be one this copy
 * holds.
 */
import type { Space } from "#protocol/space";
import { OBJECT_ID, type Repository } from "#protocol/repo";
import { holdsCommit, listDir, readLines, searchText } from "../repo/repo-files.ts";
import type { RepoService } from "../repo/repo-service.ts";
import type { Handler } from "./dispatch.ts";
import { HttpError } from "./errors.ts";

/** The commit `ref` names: a full ref, a branch or tag name, or a commit id this peer holds. */
async function commitOf(service: RepoService, space: Space, repo: Repository, ref: string | undefined) {
  const path = await service.repos.existing(space.id, repo.name);
  if (!path) throw new HttpError(503, "git/not-found", "this peer has not set up the repository yet; retry");
  const name = ref ?? `refs/heads/${repo.defaultBranch}`;
  const named = [name, `refs/heads/${name}`, `refs/tags/${name}`].map((r) => repo.refs.get(r)).find(Boolean);
  const commit = named?.commit ?? (OBJECT_ID.test(name) ? name : undefined);
  if (!commit) {
    throw new HttpError(
      404,
      "not-found",
      `${repo.name} has no ref ${name}; its refs: ${[...repo.refs.keys()].join(", ")}`,
    );
  }
  if (!(await holdsCommit(path, commit))) {
    throw new HttpError(
      404,
      "git/not-found",
      `this peer holds no commit ${commit.slice(0, 12)} of ${repo.name} (yet): push it, or retry once it is fetched`,
    );
  }
  return { path, commit };
}

export function repoFileHandlers(
  service: RepoService,
  need: (space: Space, name: string) => Repository,
): Record<string, Handler> {
  return {
    "GET /v1/spaces/:space/repos/:repo/files": async (c, { space, params, query }) => {
      const repo = need(space!, params.repo);
      const { path, commit } = await commitOf(service, space!, repo, query.ref);
      const entries = await listDir(path, commit, query.path ?? "");
      const from = Number(query.cursor ?? 0), limit = Number(query.limit ?? 200);
      return c.json({
        commit,
        path: query.path ?? "",
        entries: entries.slice(from, from + limit),
        ...(from + limit < entries.length ? { nextCursor: String(from + limit) } : {}),
      });
    },
    "GET /v1/spaces/:space/repos/:repo/file": async (c, { space, params, query }) => {
      const repo = need(space!, params.repo);
      const { path, commit } = await commitOf(service, space!, repo, query.ref);
      return c.json(await readLines(path, commit, query.path, Number(query.from ?? 1), Number(query.limit ?? 400)));
    },
    "GET /v1/spaces/:space/repos/:repo/search": async (c, { space, params, query }) => {
      const repo = need(space!, params.repo);
      const { path, commit } = await commitOf(service, space!, repo, query.ref);
      const skip = Number(query.cursor ?? 0), limit = Number(query.limit ?? 50);
      const { matches, more } = await searchText(path, commit, {
        text: query.text,
        under: query.under,
        ignoreCase: query.case === "ignore",
        skip,
        limit,
      });
      return c.json({ commit, matches, ...(more ? { nextCursor: String(skip + limit) } : {}) });
    },
  };
}
