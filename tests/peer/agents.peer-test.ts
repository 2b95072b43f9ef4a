/**
 * Agents on real peers: `weft agent add` makes the agent's key (a 0600 file
 * that no document holds) and its delegations; two agents on two peer
 * processes reserving concurrently each land exactly the calls their
 * budgets allow, and both nodes agree; pausing or revoking an agent from
 * another node stops its model call in flight on the node that runs it,
 * and that other node refuses the agent's later operations — all but a
 * release, which gives power back, so a paused agent frees its task at once.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createServer, type Server } from "node:http";
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import process from "node:process";
import { eventually } from "../helpers/nodes.ts";
import { testDaemon } from "../helpers/daemon.ts";
import { type PeerProcess, startPeer, stopPeer, weft } from "../helpers/peer-process.ts";
import { fileKeystore } from "../../peer/keystore/file-keystore.ts";
import { invoke } from "../../protocol/ucan/invocation.ts";
import { OPS } from "../../protocol/tasks/ops.ts";
import type { Space } from "../../protocol/space/space.ts";

const run = promisify(execFile);
const CLI = new URL("../../peer/cli/weft.js", import.meta.url).pathname;
const enc = encodeURIComponent;
const CALL = 100_000; // micro-USD each call reserves
const N = 3;

/** The CLI against the peer whose data dir is `home`; its parsed --json output. */
async function cli<T>(home: string, ...args: string[]): Promise<T> {
  const { stdout } = await run(process.execPath, [CLI, ...args, "--json"], {
    env: { ...process.env, WEFT_HOME: home },
  });
  return JSON.parse(stdout) as T;
}

interface AgentView {
  name: string;
  did: string;
  state: string;
  reservations: number;
  spent: { usd: number; tokens: number };
  reserved: { usd: number; tokens: number };
  delegations: { command: string; cid: string }[];
  tasks: Record<string, { reservations: number }>;
}

/** Every file under `dir`. */
async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.push(join(e.parentPath, e.name));
  }
  return out;
}

/** A stand-in for a slow model endpoint, named as such: it answers nothing until the client goes away. */
async function slowModel(): Promise<{ url: string; server: Server }> {
  const server = createServer(() => {});
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}/v1/chat/completions`, server };
}

/** A model call in flight under a reservation: resolves with how it ended. */
function call(url: string, signal: AbortSignal): Promise<{ aborted: boolean; reason: unknown }> {
  return fetch(url, { method: "POST", body: "{}", signal }).then(
    () => ({ aborted: false, reason: undefined }),
    () => ({ aborted: signal.aborted, reason: signal.reason }),
  );
}

/**
 * Two daemons in one space, agent `fixer` made on b (its key there), and a
 * task carrying its label that both have heard of.
 */
async function agentOnB() {
  const [a, b] = await Promise.all([testDaemon(), testDaemon()]);
  const bDid = b.daemon.node.did;
  const spaceA = a.daemon.node.spaces()[0];
  const inviteText = (await run(process.execPath, [CLI, "space", "invite", "--to", bDid], {
    env: { ...process.env, WEFT_HOME: a.home },
  })).stdout.trim();
  const address = a.daemon.node.libp2p!.getMultiaddrs()[0].toString();
  await b.client.request("POST", "/v1/spaces/join", { invite: inviteText, peers: [address] });
  const spaceB = await eventually(() => b.daemon.node.space(spaceA.id), 15_000, "b joined") as Space;
  const agent = await cli<AgentView>(
    b.home,
    ...["agent", "add", "fixer", "--labels", "bug", "--budget", "1usd", "--space", spaceA.id],
  );
  const task = (await spaceA.createTask({ title: "flaky", labels: ["bug"] })).id;
  await eventually(() => spaceB.task(task), 15_000, "b has the task");
  await eventually(
    () => spaceA.authority.chainsFor(agent.did, OPS.reserve.command, Math.floor(Date.now() / 1000)).length > 0,
    15_000,
    "a knows the agent",
  );
  return { a, b, spaceA, spaceB, agent, task };
}

describe("agents on peers", () => {
  it("two agents on two peer processes, reserving concurrently, land exactly N calls each, on both nodes", async () => {
    const peers: PeerProcess[] = [];
    try {
      // One after the other: on a loaded machine two starting at once can outlast the helper's wait.
      for (let i = 0; i < 2; i++) peers.push(await startPeer());
      const [a, b] = peers;
      const bDid = await weft(b, "id");
      const invite = await weft(a, "space", "invite", "--to", bDid);
      const space = JSON.parse(await weft(b, "join", a.address, "--invite", invite, "--json")).id as string;
      const budget = `${(N * CALL) / 1e6}usd`;
      const x = await cli<AgentView>(
        a.home,
        "agent",
        "add",
        "xa",
        "--labels",
        "bug",
        "--budget",
        budget,
        "--space",
        space,
      );
      const y = await cli<AgentView>(
        b.home,
        "agent",
        "add",
        "yb",
        "--labels",
        "bug",
        "--budget",
        budget,
        "--space",
        space,
      );

      // The key: a 0600 file on the peer that runs the agent, in no document of either peer.
      const keyPath = join(b.home, "keys", "agent-yb.json");
      assert.equal((await stat(keyPath)).mode & 0o777, 0o600);
      const seed = JSON.parse(await readFile(keyPath, "utf8")).seed as string;
      const seedBytes = Buffer.from(seed, "base64url");
      for (const home of [a.home, b.home]) {
        for (const f of await files(join(home, "docs"))) {
          const bytes = await readFile(f);
          assert.ok(!bytes.includes(seedBytes) && !bytes.includes(Buffer.from(seed)), `${f} holds the agent key`);
        }
      }

      const task = JSON.parse(await weft(a, "task", "add", "fix the flaky test", "--label", "bug", "--json")).id;
      const [apiA, apiB] = await Promise.all([a.api(), b.api()]);
      await eventually(
        () => apiB.get(`/v1/spaces/${enc(space)}/tasks/${task}`).catch(() => undefined),
        15_000,
        "b has the task",
      );
      // Both agents' delegations reach the other node.
      await eventually(
        async () => (await cli<AgentView>(a.home, "agent", "show", y.did, "--space", space)).delegations.length >= 4,
        15_000,
        "a knows yb's delegations",
      );

      const reserve = (api: typeof apiA, name: string) =>
        api.request<{ id: string }>("POST", `/v1/spaces/${enc(space)}/agents/${name}/reservations`, {
          task,
          usd: CALL,
          tokens: 50,
          model: "recorded",
        }).then(() => "ok", (e) => (e as { code?: string }).code ?? String(e));
      const results = await Promise.all([
        ...Array.from({ length: N + 2 }, () => reserve(apiA, "xa")),
        ...Array.from({ length: N + 2 }, () => reserve(apiB, "yb")),
      ]);
      const ok = (from: number) => results.slice(from, from + N + 2).filter((r) => r === "ok").length;
      assert.equal(ok(0), N, `xa: ${results.slice(0, N + 2)}`);
      assert.equal(ok(N + 2), N, `yb: ${results.slice(N + 2)}`);
      assert.ok(results.every((r) => r === "ok" || r === "budget/exhausted"), String(results));

      // Both nodes count the same: N reserved calls per agent, none more.
      for (const home of [a.home, b.home]) {
        for (const did of [x.did, y.did]) {
          const seen = await eventually(
            async () => {
              const v = await cli<AgentView>(home, "agent", "show", did, "--space", space);
              return v.reservations === N ? v : undefined;
            },
            15_000,
            "both nodes count N reservations",
          );
          assert.equal(seen!.reserved.usd, N * CALL);
          assert.equal(seen!.tasks[task].reservations, N, "its own calls on the task, not the other agent's");
        }
      }
      // Receipts make room again: two calls settled at a fifth of their maximum leave room for one more, not two.
      const list = await cli<{ agents: AgentView[] }>(a.home, "agent", "list", "--space", space);
      assert.equal(list.agents.length, 1, "a lists the agent it runs");
      const ops = await apiA.get<{ history: Array<{ op: string; kind: string; author: string }> }>(
        `/v1/spaces/${enc(space)}/tasks/${task}`,
      );
      const xs = ops.history.filter((h) => h.kind === "reserve" && h.author === x.did).slice(0, 2);
      for (const r of xs) {
        await apiA.request("POST", `/v1/spaces/${enc(space)}/agents/xa/reservations/${r.op}/settle`, {
          usd: CALL / 5,
          tokens: 10,
        });
      }
      assert.equal(await reserve(apiA, "xa"), "ok");
      assert.equal(await reserve(apiA, "xa"), "budget/exhausted");
    } finally {
      await Promise.all(peers.map(stopPeer));
    }
  });

  it("pause and revoke from another node stop the call in flight and are refused there too", async () => {
    const { a, b, spaceA, spaceB, agent, task } = await agentOnB();
    const model = await slowModel();
    try {
      // A model call in flight on b, under a reservation.
      const spending = await b.daemon.agents.spending(spaceB, "fixer", task);
      const r1 = await spending.reserve({ usd: CALL, tokens: 100 }, { model: "slow" });
      const inFlight = call(model.url, r1.signal);
      const pausedAt = Date.now();
      await cli(a.home, "agent", "pause", agent.did, "--reason", "stop now", "--space", spaceA.id);
      const ended = await inFlight;
      const stopMs = Date.now() - pausedAt;
      assert.ok(ended.aborted, "the call was aborted");
      assert.equal((ended.reason as { code?: string }).code, "agent/stopped");
      console.log(JSON.stringify({ metric: "pause-to-abort", value: stopMs, unit: "ms" }));
      // On b the agent cannot start another call...
      await assert.rejects(spending.reserve({ usd: 1, tokens: 1 }), { code: "agent/stopped" });
      // ...and a, the other node, refuses an operation the agent signs after the pause (as a thief with its key would).
      const key = await fileKeystore({ dir: join(b.home, "keys") }).load("agent-fixer");
      const [chain] = spaceA.authority.chainsFor(agent.did, OPS.comment.command, Math.floor(Date.now() / 1000));
      const late = await invoke({
        issuer: key!,
        subject: spaceA.id,
        command: OPS.comment.command,
        args: { task, body: "still here", at: [Date.now() + 5, 0], after: spaceA.log.heads() },
        proofs: chain,
        expiration: null,
      });
      await assert.rejects(spaceA.submit(late.bytes), /paused/);
      // A receipt for the aborted call still lands: what it spent is counted.
      await spending.settle(r1, { usd: CALL / 10, tokens: 7 });
      await eventually(() => spaceA.log.reducer.spend.agent(agent.did).spent.usd === CALL / 10, 15_000, "a counts it");

      // Resumed, it works again; revoked mid-call, the call stops and the agent is done for.
      await cli(a.home, "agent", "resume", agent.did, "--space", spaceA.id);
      await eventually(() => spaceB.log.reducer.spend.paused(agent.did) === undefined, 15_000, "b sees the resume");
      const r2 = await spending.reserve({ usd: CALL, tokens: 100 });
      const second = call(model.url, r2.signal);
      await cli(a.home, "agent", "revoke", agent.did, "--space", spaceA.id);
      const revoked = await second;
      assert.ok(revoked.aborted, "the call was aborted on revocation");
      await assert.rejects(spending.reserve({ usd: 1, tokens: 1 }), { code: "agent/stopped" });
      const shown = await cli<AgentView>(b.home, "agent", "show", "fixer", "--space", spaceA.id);
      assert.equal(shown.state, "revoked");
    } finally {
      model.server.closeAllConnections();
      model.server.close();
      await Promise.all([a.stop(), b.stop()]);
    }
  });
  it("a paused agent may still give its task back: every node accepts the release, and nothing else", async () => {
    const { a, b, spaceA, spaceB, agent, task } = await agentOnB();
    try {
      const signer = await b.daemon.agents.signer("fixer");
      // An hour's lease: the task is free again only if the release lands, never by lapsing during the test.
      const claimed = await spaceB.actAs(signer, "claim", {
        task,
        fence: spaceB.task(task)!.fence + 1,
        expires: Date.now() + 3_600_000,
        labels: ["bug"],
      });
      const fence = claimed.lease!.fence;
      await eventually(() => spaceA.task(task)?.lease?.holder === agent.did, 15_000, "a sees the claim");
      await cli(a.home, "agent", "pause", agent.did, "--reason", "stop now", "--space", spaceA.id);
      await eventually(() => spaceB.log.reducer.spend.paused(agent.did) !== undefined, 15_000, "b sees the pause");
      // Using power is refused: a renewal, a comment.
      await assert.rejects(
        spaceB.actAs(signer, "renew", { task, fence, expires: Date.now() + 60_000, labels: ["bug"] }),
        /paused/,
      );
      await assert.rejects(spaceB.actAs(signer, "comment", { task, body: "still here" }), /paused/);
      // Giving it back is not: the release lands on b, and a reduces it the same way.
      await spaceB.actAs(signer, "release", { task, fence, labels: ["bug"] });
      assert.equal(spaceB.task(task)!.lease, undefined);
      await eventually(
        () => spaceA.task(task)?.history.some((h) => h.kind === "release" && h.author === agent.did),
        15_000,
        "a has the release",
      );
      assert.equal(spaceA.task(task)!.lease, undefined);
      assert.equal(spaceA.task(task)!.status, "open");
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});
