/**
 * MCP tools for patches: list and read them with their checks (what a
 * merge of the latest revision still needs), propose one and add a
 * revision — requests and signed patch operations of the MCP client's own
 * principal, checked by the peer against its delegation (an agent holds
 * propose, never merge). Branches and tags are resolved to commits by the
 * peer, which also says when it does not hold a commit yet (push it first).
 */
import { z } from "zod";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { newTaskId } from "#protocol/space";
import { TASK_ID } from "#protocol/tasks";
import { type Patch, PATCH_ID } from "#protocol/patch";
import { act, MAX_PAGE, type McpPart, page, recent } from "./part.ts";
import type { Principal } from "./principal.ts";
import { refOrCommit, repoName } from "./repo-tools.ts";

const patchId = z.string().regex(PATCH_ID).describe("a patch id, as list_patches gives it");
const cursor = z.string().regex(/^\d{1,6}$/).optional().describe("nextCursor of the previous page");
const did = z.string().regex(/^did:key:z[1-9A-HJ-NP-Za-km-z]{40,60}$/);
const description = z.string().max(32_000).optional();

type PatchSummary = Omit<Patch, "revisions" | "reviews" | "history"> & { revisions: number; reviews: number };
type PatchView = Patch & { readiness?: Record<string, unknown> };

/** One patch, bounded: its latest revisions and reviews (the counts say how many in all), its merge and checks. */
function detail(p: PatchView) {
  const { history: _history, revisions, reviews, ...rest } = p;
  return {
    ...rest,
    revisions: recent(revisions),
    revisionCount: revisions.length,
    reviews: recent(reviews),
    reviewCount: reviews.length,
  };
}

export const PATCH_TOOLS: McpPart = {
  register(server: McpServer, principal: Principal) {
    const space = `/v1/spaces/${encodeURIComponent(principal.space)}`;
    /** The commit a ref or commit id names in `repo`, as the peer resolves it; not-found if it holds none. */
    const commitOf = async (repo: string, ref: string) =>
      (await principal.get<{ commit: string }>(
        `${space}/repos/${encodeURIComponent(repo)}/files?${new URLSearchParams({ ref, limit: "1" })}`,
      )).commit;

    server.registerTool("list_patches", {
      title: "List patches",
      description: "Patches in the space, newest first, by status, repository or author: title, status, target, " +
        "head commit, counts of revisions and reviews. Paged.",
      inputSchema: {
        status: z.enum(["open", "closed", "merged"]).optional(),
        repo: repoName.optional(),
        author: did.optional(),
        cursor,
        limit: z.number().int().min(1).max(MAX_PAGE).default(20),
      },
      annotations: { readOnlyHint: true },
    }, (a) =>
      act(async () => {
        const q = new URLSearchParams({ limit: String(Number(a.cursor ?? 0) + a.limit + 1) });
        for (const k of ["status", "repo", "author"] as const) if (a[k]) q.set(k, a[k]!);
        const { patches } = await principal.get<{ patches: PatchSummary[] }>(`${space}/patches?${q}`);
        const p = page(patches, a.cursor, a.limit);
        return { patches: p.items, ...(p.nextCursor ? { nextCursor: p.nextCursor } : {}) };
      }));

    server.registerTool("read_patch", {
      title: "Read a patch",
      description: "One patch: its revisions (base and head commits), reviews with comments anchored to file " +
        "and line, its merge, and for an open patch its checks — each required check passed, failed or " +
        "missing, the approvals, and what still blocks a merge.",
      inputSchema: { patch: patchId },
      annotations: { readOnlyHint: true },
    }, ({ patch }) => act(async () => detail(await principal.get<PatchView>(`${space}/patches/${patch}`))));

    server.registerTool("propose_patch", {
      title: "Propose a patch",
      description: "Propose merging `head` (a branch you pushed, or a commit the peer holds) into `target` " +
        "(default: the repository's default branch), signed by you. Push the commits first " +
        "(git push weft::<space>/<repo> HEAD:refs/heads/<a branch you may push>).",
      inputSchema: {
        repo: repoName,
        title: z.string().min(1).max(200),
        head: refOrCommit,
        base: refOrCommit.optional().describe("what the patch is against; default: the target's commit"),
        target: z.string().min(1).max(255).regex(/^(?!-)[A-Za-z0-9._/-]+$/).optional()
          .describe("the branch to land on, e.g. main or refs/heads/main"),
        description,
        tasks: z.array(z.string().regex(TASK_ID)).max(32).optional().describe("tasks this patch answers"),
      },
    }, (a) =>
      act(async () => {
        const repo = await principal.get<{ defaultBranch: string }>(`${space}/repos/${encodeURIComponent(a.repo)}`);
        const target = a.target
          ? (a.target.startsWith("refs/") ? a.target : `refs/heads/${a.target}`)
          : `refs/heads/${repo.defaultBranch}`;
        const p = await principal.patchOp("propose", {
          patch: newTaskId(),
          repo: a.repo,
          target,
          base: await commitOf(a.repo, a.base ?? target),
          head: await commitOf(a.repo, a.head),
          title: a.title,
          ...(a.description ? { description: a.description } : {}),
          ...(a.tasks?.length ? { tasks: a.tasks } : {}),
        });
        return detail(p);
      }));

    server.registerTool("revise_patch", {
      title: "Revise a patch",
      description: "Add a revision to a patch you proposed: its new head (and base, if it moved), signed by you.",
      inputSchema: {
        patch: patchId,
        head: refOrCommit,
        base: refOrCommit.optional(),
        description,
      },
    }, (a) =>
      act(async () => {
        const current = await principal.get<PatchView>(`${space}/patches/${a.patch}`);
        const p = await principal.patchOp("revise", {
          patch: current.id,
          head: await commitOf(current.repo, a.head),
          ...(a.base ? { base: await commitOf(current.repo, a.base) } : {}),
          ...(a.description ? { description: a.description } : {}),
        });
        return detail(p);
      }));
  },
};
