/**
 * `weft patch propose|list|show|review|revise|merge|close`: patches to a
 * space's repositories, each change a signed operation sent through the
 * API. Commits are named with system git in the current directory (any
 * revision `git rev-parse` understands). `weft patch merge` asks the peer
 * what the merge needs first and, if a check is missing or failed, says
 * which and why instead of signing anything; with `--merge-commit` it
 * sends the merge commit's objects with the merge.
 */
import { execFileSync } from "node:child_process";
import { fromBase64Url, WeftError } from "#protocol";
import { neutralized } from "#protocol/schema";
import type { CheckVerdict, Patch } from "#protocol/patch";
import { enc, list, need, str, Usage } from "./args.ts";
import { type Command, type Io, resolveSpace } from "./command.ts";
import { short, table } from "./output.ts";
import { uploadObjects } from "../repo/object-upload.ts";

interface ReadinessView {
  revision: string;
  head: string;
  target: string;
  /** Where the target ref points now: what a merge moves it from. */
  onto: string;
  checks: CheckVerdict[];
  approvals: { have: string[]; need: number };
  blockers: string[];
  mergeable: boolean;
}
type PatchView = Patch & { readiness?: ReadinessView };

/** Does the repository in the current directory hold commit `id`? */
function hasCommit(id: string): boolean {
  try {
    execFileSync("git", ["cat-file", "-e", `${id}^{commit}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** The commit id git gives `rev` in the current directory; a usage error naming it if there is none. */
function commitOf(rev: string): string {
  try {
    return execFileSync("git", ["rev-parse", "--verify", "--end-of-options", `${rev}^{commit}`], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    }).trim();
  } catch {
    throw new Usage(`git knows no commit ${rev} here: run this in the repository, or pass a full commit id`);
  }
}

/** A full commit id as given, or resolved by git. */
const commitArg = (rev: string) => (/^(?:[0-9a-f]{40}|[0-9a-f]{64})$/.test(rev) ? rev : commitOf(rev));

async function patch(io: Io, space: string, id: string): Promise<PatchView> {
  return await (await io.client()).get<PatchView>(`/v1/spaces/${enc(space)}/patches/${enc(id)}`);
}

/** Text from the network, one terminal line per line, with no control character left in it. */
const safe = (text: string, indent: string) => text.split("\n").map((l) => indent + neutralized(l)).join("\n");

const checkLine = (c: CheckVerdict) => `    ${c.status === "passed" ? "✓" : "✗"} ${c.name}: ${c.status} — ${c.reason}`;

function showPatch(p: PatchView): string {
  const out = [
    `${p.id}  ${p.status}  ${p.repo} → ${p.target}`,
    safe(p.title, "  "),
    `  author: ${p.author}${p.tasks.length ? `   tasks: ${p.tasks.join(", ")}` : ""}`,
    "  revisions:",
  ];
  p.revisions.forEach((r, i) => {
    out.push(`    ${i + 1}. ${r.id.slice(-12)}  ${r.base.slice(0, 12)}..${r.head.slice(0, 12)}  by ${short(r.author)}`);
    if (r.description) out.push(safe(r.description, "       "));
  });
  if (p.reviews.length > 0) out.push("  reviews:");
  for (const r of p.reviews) {
    const n = p.revisions.findIndex((x) => x.id === r.revision) + 1;
    out.push(`    ${short(r.author)} on revision ${n}: ${r.verdict}`);
    if (r.body) out.push(safe(r.body, "      "));
    for (const c of r.comments) out.push(safe(`${c.path}:${c.line}: ${c.body}`, "      "));
  }
  if (p.merge) {
    out.push(`  merged by ${short(p.merge.by)}: ${p.merge.ref} → ${p.merge.commit} (${p.merge.strategy})`);
    for (const c of p.merge.checks) out.push(checkLine(c));
  }
  if (p.readiness) {
    out.push(`  checks on ${p.readiness.head.slice(0, 12)}:`);
    for (const c of p.readiness.checks) out.push(checkLine(c));
    const { have, need } = p.readiness.approvals;
    out.push(`  approvals: ${have.length}/${need}${have.length ? ` (${have.map(short).join(", ")})` : ""}`);
    out.push(
      p.readiness.mergeable ? "  mergeable" : `  not mergeable:\n${safe(p.readiness.blockers.join("\n"), "    ")}`,
    );
  }
  return out.join("\n");
}

/** `path:line:text` → an anchored comment. */
function anchored(spec: string): { path: string; line: number; body: string } {
  const m = /^([^:]+):(\d+):([\s\S]+)$/.exec(spec);
  if (!m) throw new Usage(`--line takes path:line:comment, e.g. src/log.ts:42:this can overflow (got ${spec})`);
  return { path: m[1], line: Number(m[2]), body: m[3] };
}

export const PATCH_COMMANDS: Record<string, Command> = {
  "patch propose": {
    usage:
      "weft patch propose <title> --repo r [--head rev] [--base rev] [--target ref] [--description d] [--task id]...",
    summary: "Propose a patch: the head commit (default HEAD) against the base (default the target's tip)",
    options: {
      repo: { type: "string" },
      head: { type: "string" },
      base: { type: "string" },
      target: { type: "string" },
      description: { type: "string" },
      task: { type: "string", multiple: true },
    },
    async run(a, v, io) {
      const space = await resolveSpace(io, v);
      const repo = str(v, "repo");
      if (!repo) throw new Usage("--repo names the space's repository the patch is for");
      const target = str(v, "target") ?? "refs/heads/main";
      const { newTaskId } = await import("#protocol/space");
      const p = await (await io.client()).patchOp<"propose", PatchView>(space, "propose", {
        patch: newTaskId(),
        repo,
        target,
        base: commitArg(str(v, "base") ?? target.replace(/^refs\/heads\//, "")),
        head: commitArg(str(v, "head") ?? "HEAD"),
        title: need(a, 0, "title"),
        ...(str(v, "description") ? { description: str(v, "description") } : {}),
        ...(list(v, "task").length ? { tasks: list(v, "task") } : {}),
      });
      io.print(p, () => `proposed ${p.id}  ${neutralized(p.title)}`);
    },
  },
  "patch list": {
    usage: "weft patch list [--status open|closed|merged] [--repo r] [--author did] [--limit n]",
    summary: "List patches, newest first",
    options: {
      status: { type: "string" },
      repo: { type: "string" },
      author: { type: "string" },
      limit: { type: "string" },
    },
    async run(_a, v, io) {
      const space = await resolveSpace(io, v);
      const q = new URLSearchParams();
      for (const k of ["status", "repo", "author", "limit"]) if (str(v, k)) q.set(k, str(v, k)!);
      const r = await (await io.client()).get<{
        patches: Array<Omit<Patch, "revisions" | "reviews"> & { revisions: number; reviews: number }>;
      }>(`/v1/spaces/${enc(space)}/patches${q.size ? `?${q}` : ""}`);
      io.print(r, () =>
        table(
          r.patches.map((p) => ({
            id: p.id,
            status: p.status,
            repo: p.repo,
            title: p.title.length > 48 ? p.title.slice(0, 47) + "…" : p.title,
            author: short(p.author),
            revisions: p.revisions,
            reviews: p.reviews,
          })),
          ["id", "status", "repo", "title", "author", "revisions", "reviews"],
        ));
    },
  },
  "patch show": {
    usage: "weft patch show <id>",
    summary: "One patch: revisions, reviews and their comments, its checks, and whether it may merge",
    async run(a, v, io) {
      const p = await patch(io, await resolveSpace(io, v), need(a, 0, "id"));
      io.print(p, () => showPatch(p));
    },
  },
  "patch review": {
    usage:
      "weft patch review <id> (--approve | --request-changes | --comment) [--body text] [--line path:line:text]... [--revision n]",
    summary: "Review a revision (the latest unless --revision n): approve, request changes, or comment on lines",
    options: {
      approve: { type: "boolean" },
      "request-changes": { type: "boolean" },
      comment: { type: "boolean" },
      body: { type: "string" },
      line: { type: "string", multiple: true },
      revision: { type: "string" },
    },
    async run(a, v, io) {
      const verdicts = (["approve", "request-changes", "comment"] as const).filter((k) => v[k]);
      if (verdicts.length !== 1) throw new Usage("say one of --approve, --request-changes or --comment");
      const space = await resolveSpace(io, v);
      const current = await patch(io, space, need(a, 0, "id"));
      const n = str(v, "revision") === undefined ? current.revisions.length : Number(str(v, "revision"));
      const revision = current.revisions[n - 1];
      if (!revision) throw new Usage(`--revision is 1 to ${current.revisions.length}`);
      const comments = list(v, "line").map(anchored);
      const p = await (await io.client()).patchOp<"review", PatchView>(space, "review", {
        patch: current.id,
        revision: revision.id,
        verdict: verdicts[0],
        ...(str(v, "body") ? { body: str(v, "body") } : {}),
        ...(comments.length ? { comments } : {}),
      });
      io.print(p, () => `reviewed revision ${n} of ${p.id}: ${verdicts[0]}`);
    },
  },
  "patch revise": {
    usage: "weft patch revise <id> [--head rev] [--base rev] [--description d]",
    summary: "A new revision of your patch (default head: HEAD)",
    options: { head: { type: "string" }, base: { type: "string" }, description: { type: "string" } },
    async run(a, v, io) {
      const space = await resolveSpace(io, v);
      const current = await patch(io, space, need(a, 0, "id"));
      const p = await (await io.client()).patchOp<"revise", PatchView>(space, "revise", {
        patch: current.id,
        head: commitArg(str(v, "head") ?? "HEAD"),
        ...(str(v, "base") ? { base: commitArg(str(v, "base")!) } : {}),
        ...(str(v, "description") ? { description: str(v, "description") } : {}),
      });
      io.print(p, () => `revision ${p.revisions.length} of ${p.id}: ${p.revisions[p.revisions.length - 1].head}`);
    },
  },
  "patch merge": {
    usage: "weft patch merge <id> [--merge-commit rev]",
    summary: "Merge a patch whose required checks passed (fast-forward, or the merge commit you made)",
    options: { "merge-commit": { type: "string" } },
    async run(a, v, io) {
      const space = await resolveSpace(io, v);
      const client = await io.client();
      const current = await patch(io, space, need(a, 0, "id"));
      const r = await client.get<ReadinessView & { evidence: string[] }>(
        `/v1/spaces/${enc(space)}/patches/${enc(current.id)}/merge`,
      );
      if (!r.mergeable) {
        throw new WeftError(
          "NotMergeable",
          "patch/not-mergeable",
          `patch ${current.id} may not merge yet:\n${r.blockers.map((b) => `  - ${neutralized(b)}`).join("\n")}`,
        );
      }
      const mergeCommit = str(v, "merge-commit");
      const commit = mergeCommit ? commitArg(mergeCommit) : r.head;
      // A merge commit is new to the peer: its objects go up with the merge, and land only if it applies.
      const quarantine = mergeCommit
        ? await uploadObjects(
          client,
          `/v1/spaces/${enc(space)}/repos/${enc(current.repo)}`,
          "merge",
          [commit],
          [r.onto, r.head].filter((id) => !/^0+$/.test(id) && hasCommit(id)),
        )
        : undefined;
      const p = await client.patchOp<"merge", PatchView>(space, "merge", {
        patch: current.id,
        revision: r.revision,
        onto: r.onto,
        commit,
        strategy: mergeCommit ? "merge-commit" : "fast-forward",
        evidence: r.evidence.map(fromBase64Url),
      }, quarantine ? { query: new URLSearchParams({ quarantine }) } : {});
      io.print(p, () => `merged ${p.id}: ${p.merge?.ref} → ${p.merge?.commit}`);
    },
  },
  "patch close": {
    usage: "weft patch close <id> [--reason r] | weft patch close <id> --reopen",
    summary: "Close a patch without merging it (or reopen it)",
    options: { reason: { type: "string" }, reopen: { type: "boolean" } },
    async run(a, v, io) {
      const space = await resolveSpace(io, v);
      const id = (await patch(io, space, need(a, 0, "id"))).id;
      const client = await io.client();
      const p = v.reopen
        ? await client.patchOp<"reopen", PatchView>(space, "reopen", { patch: id })
        : await client.patchOp<"close", PatchView>(space, "close", {
          patch: id,
          ...(str(v, "reason") ? { body: str(v, "reason") } : {}),
        });
      io.print(p, () => `${p.id} is ${p.status}`);
    },
  },
};
