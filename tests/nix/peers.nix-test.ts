/**
 * Nix builds across real peer processes, submitted with the stock CLI
 * (`weft run <dir>`): a peer without nix never gets a nix job; a project
 * whose derivation transforms real source builds to the same output hash on
 * two nix peers (`--reproduce 2`, verdict recorded on a task); a
 * nondeterministic derivation is reported, both by `--check` on one node and
 * by `--reproduce 2` across two, in the run's signed provenance.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Pod } from "../../protocol/scheduler/pods.ts";
import type { TaskView } from "../../protocol/tasks/query.ts";
import { eventually } from "../helpers/nodes.ts";
import { joinPeer, type PeerProcess, startPeer, stopPeer, weft } from "../helpers/peer-process.ts";
import { removeProjects, WORDS_PROJECT, writeProject } from "./projects.ts";

/** `weft run` exits 1 when the run (or the reproduction) failed; its JSON is still on stdout. */
const failedRun = (e: { stdout?: string; stderr?: string }) => {
  if (!e.stdout) throw new Error(`weft run failed: ${e.stderr}`);
  return e.stdout;
};

const FAST = { WEFT_LEASE_SECONDS: "5", WEFT_ADVERTISE_SECONDS: "2", WEFT_SLOTS: "2" };

describe("nix builds across peers", { timeout: 300_000 }, () => {
  let plain: PeerProcess;
  let nixA: PeerProcess;
  let nixB: PeerProcess;
  let space: string;
  let project: string;
  const dids: Record<string, string> = {};

  const capacityOf = async (p: PeerProcess, n: number) =>
    (await eventually(
      async () => {
        const r = await (await p.api()).get<{ nodes: Array<{ node: string; runners: string[] }> }>("/v1/capacity");
        return r.nodes.length >= n ? r.nodes : undefined;
      },
      30_000,
      `${n} capacity adverts`,
    ))!;
  const api = async (p: PeerProcess, path: string) =>
    await (await p.api()).get<Record<string, unknown>>(`/v1/spaces/${encodeURIComponent(space)}${path}`);

  before(async () => {
    project = writeProject(WORDS_PROJECT);
    const git = (...args: string[]) =>
      execFileSync("git", ["-C", project, "-c", "user.name=t", "-c", "user.email=t@t", ...args]);
    git("init", "-q");
    git("add", "-A");
    git("commit", "-qm", "the words project");
    const plainHome = await mkdtemp(join(tmpdir(), "weft-proc-"));
    await writeFile(
      join(plainHome, "weft.toml"),
      "[runners.nix]\nenabled = false\n[runners.container]\nenabled = false\n",
    );
    // One after the other: two peers starting at once on a busy 2-core machine can pass the helper's 30 s.
    plain = await startPeer(FAST, plainHome);
    nixA = await startPeer(FAST);
    space = await joinPeer(plain, nixA);
    for (const p of [plain, nixA]) dids[await weft(p, "id")] = p === plain ? "plain" : "nixA";
    const nodes = await capacityOf(plain, 2);
    const runners = Object.fromEntries(nodes.map((n) => [dids[n.node], n.runners]));
    assert.deepEqual(runners.plain, ["wasm"]);
    assert.ok(runners.nixA.includes("nix"), `nixA runs ${runners.nixA}`);
  });

  after(async () => {
    if (process.env.WEFT_DEBUG_PEERS) { for (const p of [plain, nixA, nixB]) console.error(p?.out.slice(-3000)); }
    await Promise.all([plain, nixA, nixB].filter((p) => p).map((p) => stopPeer(p!)));
    removeProjects();
  });

  it("a nix job submitted on a peer without nix runs only on the nix peer, from the packed commit", async () => {
    const commit = execFileSync("git", ["-C", project, "rev-parse", "HEAD"], { encoding: "utf8" }).trim();
    const done = JSON.parse(await weft(plain, "run", project, "--wait", "--json")) as Pod;
    assert.equal(done.state, "succeeded", done.summary);
    assert.equal(dids[done.node!], "nixA");
    const view = await api(plain, `/artifacts/${done.manifest}`) as {
      statement: { predicate: { buildDefinition: { resolvedDependencies: Array<Record<string, unknown>> } } };
    };
    const deps = view.statement.predicate.buildDefinition.resolvedDependencies;
    const source = deps.find((d) => d.name === "source") as { digest: Record<string, string> };
    assert.equal(source.digest.gitCommit, commit);
    assert.ok(deps.some((d) => d.name === "nix-derivation"));
    const log = await weft(plain, "logs", done.task, "--space", space);
    assert.match(log, /counted 12 words/);
  });

  it("the project builds to the same output hash on two nix peers", async () => {
    nixB = await startPeer(FAST);
    await joinPeer(nixA, nixB, space);
    dids[await weft(nixB, "id")] = "nixB";
    await eventually(
      async () => {
        const nodes = await capacityOf(plain, 3);
        return nodes.filter((n) => n.runners.includes("nix")).length === 2 ? true : undefined;
      },
      30_000,
      "both nix peers advertised",
    );
    const r = JSON.parse(await weft(plain, "run", project, "--reproduce", "2", "--json")) as {
      task: string;
      runs: Pod[];
      verdict: { match: boolean; nodes: string[]; differing: string[] };
    };
    assert.deepEqual(r.verdict.differing, []);
    assert.equal(r.verdict.match, true);
    assert.deepEqual(r.runs.map((p) => dids[p.node!]).sort(), ["nixA", "nixB"]);
    const task = await api(plain, `/tasks/${r.task}`) as unknown as TaskView;
    assert.equal(task.status, "done");
    assert.ok(JSON.stringify(task).includes('"match\\":true'), "the verdict is recorded on the task");
  });

  it("a nondeterministic derivation is reported: by --check on one node and by --reproduce across two", async () => {
    const checked = JSON.parse(
      await weft(plain, "run", project, "--program", "random.nix", "--check", "--wait", "--json").catch(failedRun),
    ) as Pod;
    assert.equal(checked.state, "failed");
    assert.match(checked.summary ?? "", /not reproducible/);
    const view = await api(plain, `/artifacts/${checked.manifest}`) as {
      statement: { predicate: { runDetails: { byproducts: Array<{ name: string; content: string }> } } };
    };
    const result = view.statement.predicate.runDetails.byproducts.find((b) => b.name === "result")!;
    assert.deepEqual(JSON.parse(Buffer.from(result.content, "base64").toString()).rebuild, {
      identical: false,
      differing: ["out"],
    });
    const across = JSON.parse(
      await weft(plain, "run", project, "--program", "random.nix", "--reproduce", "2", "--json").catch(failedRun),
    ) as { task: string; verdict: { match: boolean; differing: string[] } };
    assert.equal(across.verdict.match, false);
    assert.deepEqual(across.verdict.differing, ["nix-output:out", "out"]);
    const task = await api(plain, `/tasks/${across.task}`) as unknown as TaskView;
    assert.equal(task.status, "failed");
  });
});
