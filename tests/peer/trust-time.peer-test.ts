/**
 * The attacks on time, replayed against three real peer processes. Each
 * attacker is a member: a Weft node of its own, invited into the space,
 * that signs operations with whatever time and causal heads it likes and
 * writes them straight into the space's documents, which sync to the
 * peers — and every peer must refuse the same ones and keep the same
 * honest work:
 *  - an expired delegation used by stamping the operation before its expiry;
 *  - operations from the year 2100, and back-dated past what they follow;
 *  - a holder stopped past its lease that comes back with a back-dated
 *    fence-1 result, after another peer took over with fence 2;
 *  - a claim stamped a second before the holder's;
 *  - a revocation, which keeps what the member did before it.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { ApiClient } from "../../peer/api/client.ts";
import { ApiClient as Client } from "../../peer/api/client.ts";
import { loadCredentials } from "../../peer/api/credentials.ts";
import type { TaskView } from "../../protocol/tasks/query.ts";
import { multiaddr } from "@multiformats/multiaddr";
import { invoke } from "../../protocol/ucan/invocation.ts";
import type { Ipld } from "../../protocol/ucan/policy/ipld.ts";
import { type OpKind, OPS } from "../../protocol/tasks/ops.ts";
import type { Hlc } from "../../protocol/tasks/hlc.ts";
import type { Space } from "../../protocol/space/space.ts";
import { delegationIn, signer } from "../helpers/principals.ts";
import { eventually, injectOp, libp2pNode, type TestNode } from "../helpers/nodes.ts";
import { joinPeer, type PeerProcess, startPeer, stopPeer, weft } from "../helpers/peer-process.ts";

const enc = encodeURIComponent;
const GRACE_SECONDS = 2;

describe("time, against three peer processes", () => {
  let a: PeerProcess, b: PeerProcess, c: PeerProcess;
  let apiA: ApiClient, apiB: ApiClient, apiC: ApiClient;
  let space: string;
  let nodeChain: string[];

  before(async () => {
    [a, b, c] = await Promise.all([startPeer(), startPeer(), startPeer()]);
    apiA = await a.api();
    const created = await apiA.request<{ id: string }>("POST", "/v1/spaces", {
      name: "shared",
      graceSeconds: GRACE_SECONDS,
    });
    space = created.id;
    await joinPeer(a, b, space);
    await joinPeer(b, c, space); // a — b — c: stopping a leaves b and c connected
    [apiB, apiC] = [await b.api(), await c.api()];
    const { spaces } = await apiA.get<{ spaces: Array<{ id: string; chain: string[] }> }>("/v1/spaces");
    nodeChain = spaces.find((s) => s.id === space)!.chain;
  });
  const attackers: TestNode[] = [];
  after(async () => {
    for (const x of attackers) await x.node.stop();
    await Promise.all([a, b, c].map((p) => p && stopPeer(p)));
  });

  /**
   * A member node of its own, invited by a (with `--expires`, if given),
   * connected to c only. `forge` signs an operation with any time and heads
   * and writes it into the space's documents.
   */
  async function attackerNode(expires?: string) {
    const t = await libp2pNode();
    attackers.push(t);
    const invite = await weft(
      a,
      "space",
      "invite",
      "--to",
      t.node.did,
      "--space",
      space,
      ...(expires ? ["--expires", expires] : []),
    );
    await t.node.libp2p!.dial(multiaddr(c.address));
    const joined: Space = await t.node.join(invite, { signal: AbortSignal.timeout(30_000) });
    const forge = async (kind: OpKind, args: Record<string, Ipld>, at: Hlc, after: string[]) => {
      const now = Math.floor(Date.now() / 1000);
      const chain =
        joined.authority.chainsFor(t.node.did, OPS[kind].command, Math.min(now, Math.floor(at[0] / 1000)))[0];
      const inv = await invoke({
        issuer: t.node.signer,
        subject: space,
        command: OPS[kind].command,
        args: { ...args, at: at as unknown as Ipld, ...(after.length > 0 ? { after } : {}) },
        proofs: chain,
        expiration: null,
      });
      await injectOp(t, joined, inv.bytes, inv.cid.toString());
      return inv.cid.toString();
    };
    return { node: t, space: joined, did: t.node.did, forge };
  }

  const task = (api: ApiClient, id: string) =>
    api.get<TaskView>(`/v1/spaces/${enc(space)}/tasks/${id}`).catch(() => undefined);

  /** A new member key, delegated `command` by peer a, that talks to `at`'s API. */
  async function member(at: PeerProcess, command: string, expiration?: number) {
    const key = await signer();
    const r = await apiA.request<{ cid: string; container: string }>(
      "POST",
      `/v1/spaces/${enc(space)}/capabilities`,
      { audience: key.did, command, name: "member", ...(expiration ? { expiration } : {}) },
    );
    const last = await delegationIn(r.container, r.cid);
    const creds = await loadCredentials(at.home);
    // The delegation must have reached `at` before it can check what the member signs.
    await eventually(
      async () =>
        (await (await at.api()).get<{ capabilities: Array<{ cid: string }> }>(`/v1/spaces/${enc(space)}/capabilities`))
          .capabilities.some((x) => x.cid === r.cid),
      15_000,
      "the delegation synced",
    );
    const client = new Client(
      { url: creds.url, node: creds.node, signer: key, nodeDelegation: last, powerline: last },
      creds.url,
      { [space]: nodeChain },
    );
    return { client, did: key.did, cid: r.cid };
  }

  async function everywhere(id: string, check: (t: TaskView) => boolean, what: string): Promise<void> {
    for (const api of [apiA, apiB, apiC]) {
      await eventually(
        async () => {
          const t = await task(api, id);
          return t !== undefined && check(t);
        },
        20_000,
        what,
      );
    }
  }

  const lastOp = (t: TaskView, kind: string) => [...t.history].reverse().find((h) => h.kind === kind)!;

  it("an expired delegation cannot be used by stamping the operation before its expiry", async () => {
    const agent = await attackerNode("4s");
    const expires = agent.space.members().find((m) => m.did === agent.did)!.expires!;
    const t = await apiA.op<"create", TaskView>(space, "create", { task: "expiry0001", title: "expiry" });
    await eventually(() => agent.space.task(t.id), 20_000, "the task on the agent's node");
    await agent.space.act("comment", { task: t.id, body: "honest, before the expiry" });
    await everywhere(t.id, (x) => x.comments.length === 1, "the honest comment everywhere");
    // Past the expiry and the space's grace, the log moves on…
    await new Promise((r) => setTimeout(r, Math.max(0, (expires + GRACE_SECONDS) * 1000 + 500 - Date.now())));
    await apiA.op(space, "comment", { task: t.id, body: "later" });
    await everywhere(t.id, (x) => x.comments.length === 2, "the later comment everywhere");
    // …and the agent's key signs a comment stamped a second before its expiry.
    // It names nothing it has seen since, as a signer offline since then would.
    await agent.forge("comment", { task: t.id, body: "forged" }, [expires * 1000 - 1000, 0], []);
    await agent.space.flush();
    await apiC.op(space, "comment", { task: t.id, body: "last" });
    await everywhere(t.id, (x) => x.comments.length === 3, "the last comment everywhere");
    for (const api of [apiA, apiB, apiC]) {
      assert.deepEqual((await task(api, t.id))!.comments.map((x) => x.body), [
        "honest, before the expiry",
        "later",
        "last",
      ]);
    }
  });

  it("operations from the year 2100 or back-dated past what they follow are refused", async () => {
    const m = await attackerNode();
    const t = await apiA.op<"create", TaskView>(space, "create", { task: "clock00001", title: "honest title" });
    await eventually(() => m.space.task(t.id), 20_000, "the task on the member's node");
    const heads = m.space.log.heads();
    await m.forge("edit", { task: t.id, title: "from 2100" }, [Date.UTC(2100, 0, 1), 0], []);
    await m.forge("edit", { task: t.id, title: "an hour ago" }, [Date.now() - 3_600_000, 0], heads);
    await m.forge("edit", { task: t.id, title: "ten minutes ahead" }, [Date.now() + 600_000, 0], []);
    await m.space.flush();
    await apiC.op(space, "comment", { task: t.id, body: "sync marker" });
    await everywhere(t.id, (x) => x.comments.length === 1, "the marker everywhere");
    for (const api of [apiA, apiB, apiC]) assert.equal((await task(api, t.id))!.title, "honest title");
  });

  it("a claim stamped before the holder's does not displace it", async () => {
    const attacker = await attackerNode();
    const t = await apiA.op<"create", TaskView>(space, "create", { task: "backclaim1", title: "job" });
    await everywhere(t.id, () => true, "the task everywhere");
    const claimed = await apiA.op<"claim", TaskView>(space, "claim", {
      task: t.id,
      fence: 1,
      expires: Date.now() + 120_000,
    });
    const claim = lastOp(claimed, "claim");
    // The attacker's node sees the claim, and claims as if earlier (after the task existed), naming nothing.
    const before = Math.floor((t.history[0].at[0] + claim.at[0]) / 2);
    await eventually(() => attacker.space.task(t.id)?.lease, 20_000, "the claim on the attacker's node");
    await attacker.forge("claim", { task: t.id, fence: 1, expires: Date.now() + 60_000 }, [before, 0], []);
    await attacker.space.flush();
    await apiB.op(space, "comment", { task: t.id, body: "sync marker" });
    await everywhere(t.id, (x) => x.comments.length === 1, "the marker everywhere");
    for (const api of [apiA, apiB, apiC]) {
      const x = (await task(api, t.id))!;
      assert.equal(x.lease?.holder, claimed.lease!.holder, "the holder keeps its lease");
      assert.ok(!x.history.some((h) => h.author === attacker.did));
    }
  });

  it("revoking a member keeps what it did before, on every node", async () => {
    const m = await member(b, "/weft");
    const t = await apiA.op<"create", TaskView>(space, "create", { task: "revoke0001", title: "original" });
    await everywhere(t.id, () => true, "the task everywhere");
    await m.client.get(`/v1/spaces/${enc(space)}/tasks/${t.id}`);
    await m.client.op(space, "edit", { task: t.id, title: "by the member" });
    await everywhere(t.id, (x) => x.title === "by the member", "the member's edit everywhere");
    await apiA.request("DELETE", `/v1/spaces/${enc(space)}/capabilities/${enc(m.cid)}`);
    await eventually(
      async () =>
        (await apiC.get<{ capabilities: Array<{ cid: string; revoked: boolean }> }>(
          `/v1/spaces/${enc(space)}/capabilities`,
        )).capabilities.some((x) => x.cid === m.cid && x.revoked),
      20_000,
      "the revocation reached c",
    );
    await apiC.op(space, "comment", { task: t.id, body: "sync marker" });
    await everywhere(t.id, (x) => x.comments.length === 1, "the marker everywhere");
    for (const api of [apiA, apiB, apiC]) assert.equal((await task(api, t.id))!.title, "by the member");
    // What it signs after the revocation counts nowhere.
    await m.client.op(space, "edit", { task: t.id, title: "after revocation" }).catch(() => {});
    await apiA.op(space, "comment", { task: t.id, body: "second marker" });
    await everywhere(t.id, (x) => x.comments.length === 2, "the second marker everywhere");
    for (const api of [apiA, apiB, apiC]) assert.equal((await task(api, t.id))!.title, "by the member");
  });

  it("a holder stopped past its lease comes back with a back-dated result: only the new holder's counts", async () => {
    const t = await apiA.op<"create", TaskView>(space, "create", { task: "lapse00001", title: "job" });
    const leaseMs = 3_000;
    const claimed = await apiA.op<"claim", TaskView>(space, "claim", {
      task: t.id,
      fence: 1,
      expires: Date.now() + leaseMs,
    });
    const claim = lastOp(claimed, "claim");
    await everywhere(t.id, (x) => x.lease?.fence === 1, "a's claim everywhere");
    a.child.kill("SIGSTOP"); // a stops, past its lease
    try {
      await eventually(
        async () => (await task(apiB, t.id))?.effectiveStatus === "open",
        20_000,
        "the lease lapsed on b",
      );
      await apiB.op(space, "claim", { task: t.id, fence: 2, expires: Date.now() + 60_000 });
      await apiB.op(space, "result", { task: t.id, fence: 2, outcome: "success", summary: "b's result" });
    } finally {
      a.child.kill("SIGCONT");
    }
    // a comes back and reports, stamping its result inside its old lease.
    await apiA.op(space, "result", { task: t.id, fence: 1, outcome: "failure", summary: "a's stale result" }, {
      at: [claim.at[0] + 1000, 0],
      after: [claim.op],
    }).catch(() => {}); // a may refuse it at once, or accept it until it hears of fence 2
    await everywhere(
      t.id,
      (x) => x.results.length === 1 && x.results[0].summary === "b's result" && x.status === "done",
      "exactly one result, b's, everywhere",
    );
  });
});
