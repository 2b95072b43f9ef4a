/**
 * MCP tools for repository files: list the space's repositories, list a
 * directory, read a file a page of lines at a time, and search for a fixed
 * string — at a branch, tag or commit, from the peer's copy, as requests of
 * the MCP client's own principal (the peer answers only if it may read the
 * space). Inputs are bounded by schema; every answer is paged.
 */
import { z } from "zod";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { REPO_NAME } from "#protocol/repo";
import { act, MAX_PAGE, type McpPart, page } from "./part.ts";
import type { Principal } from "./principal.ts";

/** The most lines one read gives (the peer also stops at 128 KiB of text). */
const MAX_LINES = 2000;
/** The most refs a repository listing shows of each repository. */
const MAX_REFS = 100;

export const repoName = z.string().regex(REPO_NAME).max(100).describe("a repository, as list_repos names it");
/** A branch or tag name, a full ref, or a commit id: what the peer resolves against the refs the space agrees on. */
export const refOrCommit = z.string().min(1).max(255).regex(/^(?!-)[A-Za-z0-9._/-]+$/)
  .describe("a branch (main), tag, full ref (refs/heads/x) or commit id; default: the default branch");
const repoPath = z.string().max(1024).regex(/^[^\0]*$/);
const cursor = z.string().regex(/^\d{1,7}$/).optional().describe("nextCursor of the previous page");

interface RepoView {
  name: string;
  defaultBranch: string;
  description: string;
  refs: Record<string, string>;
}

export const REPO_TOOLS: McpPart = {
  register(server: McpServer, principal: Principal) {
    const base = `/v1/spaces/${encodeURIComponent(principal.space)}/repos`;
    const at = (repo: string, route: string, q: Record<string, string | number | boolean | undefined>) => {
      const query = new URLSearchParams();
      for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== "") query.set(k, String(v));
      return `${base}/${encodeURIComponent(repo)}/${route}?${query}`;
    };

    server.registerTool("list_repos", {
      title: "List repositories",
      description: "The space's git repositories: default branch, description and refs (branch → commit). Paged.",
      inputSchema: { cursor, limit: z.number().int().min(1).max(MAX_PAGE).default(20) },
      annotations: { readOnlyHint: true },
    }, (a) =>
      act(async () => {
        const { repos } = await principal.get<{ repos: RepoView[] }>(base);
        const p = page(repos, a.cursor, a.limit);
        return {
          repos: p.items.map((r) => {
            const refs = Object.entries(r.refs);
            return {
              name: r.name,
              defaultBranch: r.defaultBranch,
              description: r.description,
              refs: Object.fromEntries(refs.slice(0, MAX_REFS)),
              refCount: refs.length,
            };
          }),
          ...(p.nextCursor ? { nextCursor: p.nextCursor } : {}),
        };
      }));

    server.registerTool(
      "list_files",
      {
        title: "List files",
        description: "The entries of a directory of a repository (default: its root) at a ref or commit: " +
          "name, path, type (file, dir, link, submodule) and size. Paged.",
        inputSchema: {
          repo: repoName,
          ref: refOrCommit.optional(),
          path: repoPath.optional().describe("a directory, e.g. src/lib; default: the root"),
          cursor,
          limit: z.number().int().min(1).max(1000).default(200),
        },
        annotations: { readOnlyHint: true },
      },
      (a) =>
        act(() => principal.get(at(a.repo, "files", { ref: a.ref, path: a.path, cursor: a.cursor, limit: a.limit }))),
    );

    server.registerTool("read_file", {
      title: "Read a file",
      description: "Lines of a file of a repository at a ref or commit, from line `from` (1 is the first). " +
        "The answer names the commit read and, if the file goes on, `next`: the line to ask for next. " +
        "Binary files say so and give no lines.",
      inputSchema: {
        repo: repoName,
        path: repoPath.min(1).describe("the file, e.g. src/index.ts"),
        ref: refOrCommit.optional(),
        from: z.number().int().min(1).max(100_000_000).default(1),
        limit: z.number().int().min(1).max(MAX_LINES).default(400),
      },
      annotations: { readOnlyHint: true },
    }, (a) => act(() => principal.get(at(a.repo, "file", { ref: a.ref, path: a.path, from: a.from, limit: a.limit }))));

    server.registerTool("search_files", {
      title: "Search files",
      description: "Lines holding a fixed string (not a pattern) in a repository's text files at a ref or " +
        "commit, optionally under one directory: path, line number and text of each. Paged.",
      inputSchema: {
        repo: repoName,
        text: z.string().min(1).max(200),
        ref: refOrCommit.optional(),
        under: repoPath.min(1).optional().describe("search only under this directory or file"),
        ignoreCase: z.boolean().default(false),
        cursor,
        limit: z.number().int().min(1).max(200).default(50),
      },
      annotations: { readOnlyHint: true },
    }, (a) =>
      act(() =>
        principal.get(at(a.repo, "search", {
          text: a.text,
          ref: a.ref,
          under: a.under,
          case: a.ignoreCase ? "ignore" : undefined,
          cursor: a.cursor,
          limit: a.limit,
        }))
      ));
  },
};
