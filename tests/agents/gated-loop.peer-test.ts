/**
 * Two gates met inside a real agent loop, not in pieces: the space asks a
 * person before an agent spends anything (`--spend 0usd`) and before any
 * job with the network on (`--network`), and the repository's tests ask
 * for the network. Agent `fixer` on peer a, driven by a recorded model (a
 * scripted OpenAI-compatible server replaying tests/fixtures/agent-loop/
 * fix-add.json — a recording, not a live model), picks the task by itself
 * and stops before its first model call with a spend request; a person on
 * peer b approves it; the loop calls the model, edits, and stops again
 * before its network-enabled test run with a network request naming the
 * image; b approves that; the run goes out with the network on, naming the
 * approval, which every node checks; the tests pass and the patch is
 * proposed. Nothing is reserved before the spend approval, and no run task
 * exists before the network approval.
 */
import { after, afterEach, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { eventually } from "../helpers/nodes.ts";
import { type PeerProcess, weft } from "../helpers/peer-process.ts";
import { type GatedFixer, gatedFixer, printRigIfFailed, weftJson as json } from "../helpers/agent-loop-rig.ts";

const enc = encodeURIComponent;

interface Request {
  id: string;
  kind: string;
  status: string;
  plan: string;
  author: string;
}
interface TaskView {
  id: string;
  status: string;
  creator: string;
  run?: { network?: boolean; program: string };
  approval?: string;
  history: { kind: string; author: string }[];
}

describe("spend and network gates inside a real agent loop", { timeout: 900_000 }, () => {
  let a: PeerProcess, b: PeerProcess;
  let space: string;
  let image: string;
  let agentDid: string;
  let model: { url: string; stop(): void; requests(): Promise<number> };

  const pending = async (p: PeerProcess, not: string[] = []) =>
    (await (await p.api()).get<{ requests: Request[] }>(`/v1/spaces/${enc(space)}/approvals?status=pending`))
      .requests.find((r) => !not.includes(r.id));
  const tasks = async (p: PeerProcess) =>
    (await (await p.api()).get<{ tasks: TaskView[] }>(`/v1/spaces/${enc(space)}/tasks?limit=200`)).tasks;

  let rig: GatedFixer;

  before(async () => {
    rig = await gatedFixer(["--network", "--spend", "0usd"], { network: true });
    ({ a, b, space, image, agentDid, model } = rig);
  });
  afterEach((t) => printRigIfFailed(t, rig));
  after(() => rig?.stop());

  it("asks before spending and before its network run; b approves each; the tests run with the network and it proposes", async () => {
    const id = (await json<{ id: string }>(
      a,
      ...["task", "add", "add 2 3 should be 5", "--label", "bug", "--label", "repo:demo", "--space", space],
    )).id;

    // Before its first model call: a spend request, and nothing spent or reserved, no call made.
    const spend = (await eventually(() => pending(b), 240_000, "the spend request on b"))!;
    assert.equal(spend.kind, "spend");
    assert.equal(spend.author, agentDid);
    assert.match(spend.plan, /spend on model calls/);
    assert.equal(await model.requests(), 0, "no model call before the approval");
    const before = await json<{ reservations: number }>(a, "agent", "show", "fixer", "--space", space);
    assert.equal(before.reservations, 0);
    await weft(b, "agent", "approve", spend.id, "--space", space);

    // Then, before its test run with the network on: a network request naming the image; no run task yet.
    const network = (await eventually(() => pending(b, [spend.id]), 240_000, "the network request on b"))!;
    assert.equal(network.kind, "network");
    assert.equal(network.author, agentDid);
    assert.ok(network.plan.includes(image), network.plan);
    assert.ok(await model.requests() >= 3, "the model was called once the spend was approved");
    assert.equal((await tasks(a)).filter((t) => t.run && t.creator === agentDid).length, 0, "no run before approval");
    await weft(b, "agent", "approve", network.id, "--space", space);

    // The run goes out with the network on, naming the approval; b holds the same task; the patch is proposed.
    const run = (await eventually(
      async () => (await tasks(b)).find((t) => t.run && t.creator === agentDid),
      120_000,
      "the agent's run task on b",
    ))!;
    assert.equal(run.run?.network, true);
    assert.equal(run.run?.program, image);
    await eventually(
      async () => {
        const t = (await tasks(a)).find((x) => x.id === id);
        return t?.status === "done" || t?.status === "review";
      },
      240_000,
      "the task finished with a proposal",
    );
    // The proposal was made on a; b holds it once the space's log has synced.
    await eventually(
      async () =>
        (await (await b.api()).get<{ patches: { author: string; tasks: string[] }[] }>(
          `/v1/spaces/${enc(space)}/patches`,
        )).patches.some((p) => p.author === agentDid && p.tasks.includes(id)),
      60_000,
      "the agent's patch on b",
    );
    // The calls after the approval were paid for, and b counts them once their records reached it.
    await eventually(
      async () =>
        (await json<{ spent: { usd: number } }>(b, "agent", "show", agentDid, "--space", space)).spent.usd > 0,
      60_000,
      "b counting the agent's spend",
    );
  });
});
