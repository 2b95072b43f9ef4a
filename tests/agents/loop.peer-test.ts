/**
 * The agent loop end to end, on two real peer processes with real git and
 * real containers: a recorded model (a scripted OpenAI-compatible server
 * process replaying a recorded conversation, tests/fixtures/agent-loop/ —
 * not a live model) drives agent `fixer` on peer a, which claims the task,
 * reads and edits its checkout, runs the repository's tests in a container
 * job (bubblewrap, network off), pushes to refs/heads/agent/fixer/<task> as
 * itself and proposes a patch with signed provenance; the person merges it
 * from peer a because the run passed, and peer b sees the same. Spend shows
 * per task. A second recorded conversation that gives up, for agent
 * `quitter` on peer b, ends in a comment saying what it tried and the task
 * released. With WEFT_TEST_LLM_URL (an OpenAI-compatible …/v1 endpoint, and
 * WEFT_TEST_LLM_MODEL) the first agent talks to that model instead.
 */
import { after, afterEach, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { eventually } from "../helpers/nodes.ts";
import { joinPeer, type PeerProcess, printOutputIfFailed, stopPeer, weft } from "../helpers/peer-process.ts";
import { startRecordedModel } from "../helpers/recorded-model-server.ts";
import {
  llmToml,
  LOOP_FIXTURES,
  peerWith,
  seedDemoRepo,
  userGit,
  weftJson as json,
} from "../helpers/agent-loop-rig.ts";

const enc = encodeURIComponent;
const LIVE = process.env.WEFT_TEST_LLM_URL;

describe("the agent loop on two peers", { timeout: 600_000 }, () => {
  let a: PeerProcess, b: PeerProcess;
  let space: string;
  let work: string;
  const models: Array<{ stop(): void }> = [];

  const git = (p: PeerProcess, cwd: string, ...args: string[]) => userGit(work, p, cwd, ...args);

  before(async () => {
    work = await mkdtemp(join(tmpdir(), "weft-loop-work-"));
    const fixer = LIVE ? { url: LIVE, stop() {} } : await startRecordedModel(join(LOOP_FIXTURES, "fix-add.json"));
    const quitter = await startRecordedModel(join(LOOP_FIXTURES, "give-up.json"));
    models.push(fixer, quitter);
    a = await peerWith(llmToml(fixer.url, LIVE ? process.env.WEFT_TEST_LLM_MODEL ?? "default" : "recorded-fix"));
    b = await peerWith(llmToml(quitter.url, "recorded-give-up"));
    space = JSON.parse(await weft(a, "space", "list", "--json")).spaces[0].id as string;
    await joinPeer(a, b, space);
    // Each peer that runs containers holds the image (a job may be placed on either).
    await seedDemoRepo(work, a, space, [a, b]);
  });
  afterEach((t) => printOutputIfFailed(t, { a, b }));
  after(async () => {
    for (const m of models) m.stop();
    await Promise.all([a, b].map((p) => p && stopPeer(p)));
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("claims, edits, tests in a container, proposes; the person merges; spend shows per task", async () => {
    const agent = await json<{ did: string }>(
      a,
      ...["agent", "add", "fixer", "--labels", "bug", "--budget", "1usd", "--runners", "container", "--space", space],
    );
    const task = (await json<{ id: string }>(
      a,
      ...["task", "add", "add 2 3 should be 5", "--body", "src/add.sh subtracts.", "--label", "bug"],
      ...["--label", "repo:demo", "--space", space],
    )).id;

    const ran = await json<{ task: string; outcome: { kind: string; patch?: string; reason?: string } }>(
      a,
      ...["agent", "run", "fixer", "--once", "--space", space],
    );
    assert.equal(ran.outcome.kind, "proposed", JSON.stringify(ran));
    assert.equal(ran.task, task);
    const id = ran.outcome.patch!;

    // Peer b sees the patch, signed by the agent, with its provenance.
    const apiB = await b.api();
    const patch = (await eventually(
      () => apiB.get<Record<string, unknown>>(`/v1/spaces/${enc(space)}/patches/${id}`).catch(() => undefined),
      30_000,
      "the patch on b",
    )) as {
      author: string;
      tasks: string[];
      revisions: { head: string }[];
      provenance: { model: string; provider: string; inputTokens: number; costMicroUsd: number; transcript: string };
    };
    assert.equal(patch.author, agent.did);
    assert.deepEqual(patch.tasks, [task]);
    assert.equal(patch.provenance.provider, "m");
    if (!LIVE) assert.equal(patch.provenance.model, "recorded-fix");
    assert.ok(patch.provenance.inputTokens > 0 && patch.provenance.costMicroUsd > 0);
    const head = patch.revisions[0].head;

    // The commit: the agent's identity, the fix, on the agent's branch.
    const check = join(work, "check");
    await git(a, work, "clone", "-q", `weft::${space}/demo`, check);
    await git(a, check, "fetch", "-q", "origin", `refs/heads/agent/fixer/${task}:fixed`);
    assert.equal(await git(a, check, "rev-parse", "fixed"), head);
    assert.equal(await git(a, check, "log", "-1", "--format=%an <%ae>", "fixed"), `fixer <${agent.did}@agent.weft>`);
    assert.equal(await git(a, check, "show", "fixed:src/add.sh"), "add() { echo $(($1 + $2)); }");

    // The transcript is an artifact in the space.
    const transcript = await (await a.api()).get<{ messages: { role: string }[] }>(
      `/v1/spaces/${enc(space)}/artifacts/${patch.provenance.transcript}`,
    );
    assert.ok(transcript.messages.filter((m) => m.role === "assistant").length >= 4);

    // The gate passes because the agent's run passed on the head commit: the person merges.
    const merged = await weft(a, "patch", "merge", id, "--space", space);
    assert.match(merged, /merged/i);
    await eventually(
      async () => {
        const p = await apiB.get<{ status: string }>(`/v1/spaces/${enc(space)}/patches/${id}`);
        return p.status === "merged";
      },
      30_000,
      "b sees it merged",
    );

    // Spend, per task: the receipts of its calls.
    const shown = await json<{ tasks: Record<string, { spent: { usd: number; tokens: number } }> }>(
      a,
      ...["agent", "show", "fixer", "--space", space],
    );
    assert.ok(shown.tasks[task].spent.usd > 0, JSON.stringify(shown.tasks));
    assert.equal(shown.tasks[task].spent.usd, patch.provenance.costMicroUsd);
  });

  it("a conversation that gives up ends in a comment saying what it tried, and the task released", async () => {
    await json(
      b,
      ...["agent", "add", "quitter", "--labels", "hard", "--budget", "1usd", "--runners", "container"],
      "--space",
      space,
    );
    const task = (await json<{ id: string }>(
      a,
      ...["task", "add", "make add faster", "--label", "hard", "--label", "repo:demo", "--space", space],
    )).id;
    const apiB = await b.api();
    await eventually(() => apiB.get(`/v1/spaces/${enc(space)}/tasks/${task}`).catch(() => undefined), 30_000, "on b");
    await eventually(
      async () => {
        const r = await apiB.get<{ repos: { name: string }[] }>(`/v1/spaces/${enc(space)}/repos/demo`).catch(() =>
          undefined
        );
        return r !== undefined;
      },
      30_000,
      "b has the repository",
    );
    const ran = await json<{ outcome: { kind: string; reason: string } }>(
      b,
      ...["agent", "run", "quitter", "--once", "--space", space],
    );
    assert.equal(ran.outcome.kind, "failed", JSON.stringify(ran));
    assert.match(ran.outcome.reason, /gave up: I could not find/);
    const said = await eventually(
      async () => {
        const v = await (await a.api()).get<{ status: string; comments: { body: string }[] }>(
          `/v1/spaces/${enc(space)}/tasks/${task}`,
        );
        return v.comments.length > 0 && v.status === "open" ? v : undefined;
      },
      30_000,
      "the comment and the release reach a",
    );
    assert.match(
      said!.comments[0].body,
      /What it tried:\n- search "a - b"\n- run_tests\n- tests (succeeded|failed) \(run [a-z0-9]+\)\n- give_up/,
    );
  });
});
