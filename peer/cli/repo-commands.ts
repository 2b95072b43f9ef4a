/**
 * `weft repo create|list|show`: the space's git repositories. Creating one
 * is a signed `/weft/repo/create` by this CLI's key; clone, fetch and push
 * go through plain git (`git clone weft::<space>/<repo>`, git-remote-weft).
 */
import { Commands } from "#protocol/ucan";
import { list, need, str } from "./args.ts";
import { type Command, resolveSpace } from "./command.ts";
import { short, table } from "./output.ts";

interface RepoView {
  name: string;
  defaultBranch: string;
  maintainers: string[];
  description: string;
  refs: Record<string, string>;
  local?: Record<string, string>;
  pushes?: { op: string; by: string; applied: boolean; reason?: string; updates: { ref: string; new: string }[] }[];
}

const enc = encodeURIComponent;

export const REPO_COMMANDS: Record<string, Command> = {
  "repo create": {
    usage: "weft repo create <name> [--default-branch main] [--maintainer did]… [--description text]",
    summary: "Create a git repository in the space (clone it with git clone weft::<space>/<name>)",
    options: {
      "default-branch": { type: "string" },
      maintainer: { type: "string", multiple: true },
      description: { type: "string" },
    },
    async run(a, v, io) {
      const space = await resolveSpace(io, v);
      const name = need(a, 0, "name");
      const maintainers = list(v, "maintainer");
      const description = str(v, "description");
      const client = await io.client();
      const repo = await client.signed<RepoView>(space, Commands.repoCreate, {
        repo: name,
        defaultBranch: str(v, "default-branch") ?? "main",
        ...(maintainers.length > 0 ? { maintainers } : {}),
        ...(description !== undefined ? { description } : {}),
      }, `/v1/spaces/${enc(space)}/repos`);
      io.print(repo, () => `created ${repo.name}: git clone weft::${space}/${repo.name}`);
    },
  },
  "repo list": {
    usage: "weft repo list",
    summary: "The space's repositories",
    async run(_a, v, io) {
      const space = await resolveSpace(io, v);
      const r = await (await io.client()).get<{ repos: RepoView[] }>(`/v1/spaces/${enc(space)}/repos`);
      io.print(r, () =>
        table(
          r.repos.map((x) => ({
            name: x.name,
            default: x.defaultBranch,
            refs: Object.keys(x.refs).length,
            maintainers: x.maintainers.map(short).join(","),
          })),
          ["name", "default", "refs", "maintainers"],
        ));
    },
  },
  "repo show": {
    usage: "weft repo show <name>",
    summary: "A repository: its refs as the space agrees on them, this peer's copy, and recent pushes",
    async run(a, v, io) {
      const space = await resolveSpace(io, v);
      const r = await (await io.client()).get<RepoView>(`/v1/spaces/${enc(space)}/repos/${enc(need(a, 0, "name"))}`);
      io.print(r, () =>
        [
          `${r.name} (default branch ${r.defaultBranch})${r.description ? `: ${r.description}` : ""}`,
          `maintainers: ${r.maintainers.join(", ")}`,
          table(
            Object.entries(r.refs).map(([ref, commit]) => ({
              ref,
              commit,
              here: r.local?.[ref] === commit ? "yes" : "fetching",
            })),
            ["ref", "commit", "here"],
          ),
          "pushes:",
          table(
            (r.pushes ?? []).map((p) => ({
              op: short(p.op),
              by: short(p.by),
              refs: p.updates.map((u) => u.ref).join(","),
              result: p.applied ? "applied" : `refused: ${p.reason}`,
            })),
            ["op", "by", "refs", "result"],
          ),
        ].join("\n"));
    },
  },
};
