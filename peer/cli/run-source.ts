/**
 * The source side of `weft run <dir>`: pack a directory or a git commit
 * deterministically (#protocol/runner source.ts) and upload it as an
 * artifact, so the spec names it by CID; and `--reproduce N`: the same spec
 * as N sibling tasks pinned to N distinct live nodes that run its kind
 * (placement's `node=<did>` tag), a parent task that depends on them, and
 * the verdict computed from their signed manifests (compareRuns, which any
 * node can recompute) recorded on the parent as a signed comment and close.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ApiClient } from "../api/client.ts";
import { ArtifactClient } from "../artifacts/api-client.ts";
import { readSourceAt } from "../source/tree.ts";
import { compareRuns, type Manifest, type ReproduceVerdict } from "#protocol/artifacts";
import type { LiveAdvert } from "#protocol/capacity";
import { packSource, type RunSpec } from "#protocol/runner";
import type { Pod } from "#protocol/scheduler";
import { newTaskId } from "#protocol/space";
import { enc, Usage } from "./args.ts";

const QUIET = { hashing() {}, sending() {} };

/** Packs `dir` (or its commit `rev`), uploads it to the space, and returns the spec's `source`. */
export async function uploadSource(
  client: ApiClient,
  space: string,
  dir: string,
  rev: string | undefined,
  warn: (text: string) => void,
): Promise<NonNullable<RunSpec["source"]>> {
  const read = await readSourceAt(dir, rev);
  if (read.note) warn(read.note);
  const tmp = await mkdtemp(join(tmpdir(), "weft-source-"));
  try {
    const file = join(tmp, "source.tar");
    await writeFile(file, packSource(read.entries));
    const { cid } = await new ArtifactClient(client).upload(space, file, QUIET);
    return { cid, ...(read.commit ? { commit: read.commit } : {}) };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

export interface Reproduction {
  /** The parent task that records the verdict. */
  task: string;
  runs: Pod[];
  verdict: ReproduceVerdict;
}

/** Runs `run` on `n` distinct live nodes of its kind and records whether their outputs match. */
export async function reproduce(
  client: ApiClient,
  space: string,
  run: RunSpec,
  n: number,
  create: { title: string; requirements: Record<string, unknown> },
  waitForEnd: (task: string) => Promise<Pod>,
): Promise<Reproduction> {
  const { nodes } = await client.get<{ nodes: LiveAdvert[] }>("/v1/capacity");
  const eligible = nodes.filter((a) => a.runners.includes(run.runner)).map((a) => a.node).sort();
  if (eligible.length < n) {
    throw new Usage(
      `--reproduce ${n} needs ${n} live nodes with a ${run.runner} runner; ${eligible.length} advertise one`,
    );
  }
  const tags = (create.requirements.tags as string[] | undefined) ?? [];
  const siblings: Pod[] = [];
  for (const [i, node] of eligible.slice(0, n).entries()) {
    siblings.push(
      await client.op<"create", Pod>(space, "create", {
        task: newTaskId(),
        title: `${create.title} (reproduce ${i + 1}/${n})`.slice(0, 200),
        run,
        requirements: { ...create.requirements, tags: [...tags, `node=${node}`] },
        labels: ["reproduce"],
        idempotencyKey: crypto.randomUUID(),
      }, { path: `/v1/spaces/${enc(space)}/schedule` }),
    );
  }
  const parent = newTaskId();
  await client.op(space, "create", {
    task: parent,
    title: `reproduce on ${n} nodes: ${create.title}`.slice(0, 200),
    labels: ["reproduce"],
    deps: siblings.map((s) => s.task),
  });
  const ended: Pod[] = [];
  for (const s of siblings) ended.push(await waitForEnd(s.task));
  const artifacts = new ArtifactClient(client);
  const manifests: Manifest[] = [];
  for (const p of ended) {
    if (p.manifest) manifests.push((await artifacts.manifest(space, p.manifest)).manifest as unknown as Manifest);
  }
  const compared = compareRuns(manifests);
  const verdict = manifests.length === ended.length
    ? compared
    : { ...compared, match: false, differing: ["a run recorded no manifest", ...compared.differing] };
  const record = JSON.stringify({ reproduce: verdict, manifests: ended.map((p) => p.manifest ?? null) });
  await client.op(space, "comment", { task: parent, body: record });
  await client.op(space, "close", { task: parent, outcome: verdict.match ? "done" : "failed", body: record });
  return { task: parent, runs: ended, verdict };
}
