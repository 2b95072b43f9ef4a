import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Space } from "../../protocol/space/space.ts";
import type { CapacityAdvert } from "../../protocol/capacity/advert.ts";
import { Commands } from "../../protocol/ucan/commands.ts";
import { eventually, libp2pNode, mesh, type TestNode } from "../helpers/nodes.ts";

const advert = (over: Partial<CapacityAdvert> = {}): CapacityAdvert => ({
  cpu: { cores: 8, load: 0.5 },
  memoryMb: { total: 16_000, free: 8_000 },
  gpus: 1,
  runners: ["wasm"],
  tags: ["gpu", "arch:x86_64"],
  version: "0.1.0",
  running: 0,
  slots: 4,
  ttl: 30,
  ...over,
});

describe("space gossip", () => {
  let nodes: TestNode[];
  let spaces: Space[];

  before(async () => {
    nodes = await Promise.all([libp2pNode(), libp2pNode(), libp2pNode()]);
    const space = await nodes[0].node.createSpace("gossip");
    const invites = await Promise.all(
      nodes.slice(1).map((n) => nodes[0].node.invite(space.id, { audience: n.node.did })),
    );
    await mesh(nodes);
    spaces = [space, ...(await Promise.all(nodes.slice(1).map((n, i) => n.node.join(invites[i]))))];
    // Wait until every node shares the space with the two others (gossip goes over those sessions).
    await eventually(
      () => nodes.every((n) => nodes.every((o) => o === n || n.node.sessionTo(o.node.did)?.shared.has(space.id))),
      10_000,
      "member sessions",
    );
  });

  after(async () => {
    await Promise.all(nodes.map((n) => n.node.stop()));
  });

  it("members' capacity adverts reach every node, signed and with a TTL", async () => {
    await nodes[1].node.gossip(spaces[1].id)!.advertise(advert({ gpus: 2 }));
    await nodes[2].node.gossip(spaces[2].id)!.advertise(advert({ gpus: 0, tags: [] }));
    const g = nodes[0].node.gossip(spaces[0].id)!;
    await eventually(() => g.adverts().length === 2, 10_000, "two adverts on node 0");
    const fromOne = g.adverts().find((a) => a.node === nodes[1].node.did)!;
    assert.equal(fromOne.gpus, 2);
    assert.ok(fromOne.expires > Date.now() && fromOne.expires <= Date.now() + 31_000);
  });

  it("expired adverts drop out of the view", async () => {
    const g0 = nodes[0].node.gossip(spaces[0].id)!;
    await nodes[2].node.gossip(spaces[2].id)!.advertise(advert({ ttl: 3, slots: 9 }));
    await eventually(
      () => g0.adverts().some((a) => a.node === nodes[2].node.did && a.slots === 9),
      10_000,
      "short advert",
    );
    await eventually(() => !g0.adverts().some((a) => a.node === nodes[2].node.did), 5000, "advert expired");
  });

  it("lease renewals travel on gossip and reach nodes before the documents do", async () => {
    const t = await spaces[0].createTask({ title: "lease" });
    await eventually(() => spaces[1].task(t.id) && spaces[2].task(t.id), 10_000, "task everywhere");
    const claimed = await spaces[1].claim(t.id, 10_000);
    await eventually(() => spaces[2].task(t.id)?.lease?.holder === nodes[1].node.did, 10_000, "claim seen");
    await spaces[1].renew(t.id, claimed.lease!.fence, 50_000);
    await eventually(
      () => (spaces[2].task(t.id)?.lease?.expires ?? 0) > Date.now() + 40_000,
      10_000,
      "renewal seen",
    );
    assert.ok(nodes[2].node.diagnostics.counter("gossip.accepted.leases") > 0);
  });

  it("a claim travels on gossip alone: a node applies it before any document carries it", async () => {
    const t = await spaces[0].createTask({ title: "claimed on gossip" });
    await eventually(() => spaces[1].task(t.id) && spaces[2].task(t.id), 10_000, "task everywhere");
    // Signed on node 1 but never written there: only gossip can carry it.
    const { invocation } = await spaces[1].sign(Commands.taskClaim, {
      task: t.id,
      fence: 1,
      expires: Date.now() + 30_000,
    });
    assert.equal(await nodes[2].node.gossip(spaces[2].id)!.receive("leases", invocation.bytes), true);
    await eventually(
      () => spaces[2].task(t.id)?.lease?.holder === nodes[1].node.did,
      10_000,
      "claim applied on node 2",
    );
    const cid = invocation.cid.toString();
    for (const id of spaces[2].documentIds.slice(1)) {
      const doc = (await nodes[2].node.repo.find<{ ops: Record<string, Uint8Array> }>(id)).doc();
      assert.equal(doc.ops[cid], undefined, "no document of node 2 holds the claim");
    }
  });

  it("only jobs and lease operations travel on the leases channel: a comment on it is refused", async () => {
    const t = await spaces[0].createTask({ title: "not a lease" });
    await eventually(() => spaces[1].task(t.id), 10_000, "task on node 1");
    const { invocation } = await spaces[1].sign(Commands.taskComment, { task: t.id, body: "smuggled" });
    const refused = nodes[2].node.diagnostics.counter("gossip.accepted.leases");
    assert.equal(await nodes[2].node.gossip(spaces[2].id)!.receive("leases", invocation.bytes), false);
    assert.equal(nodes[2].node.diagnostics.counter("gossip.accepted.leases"), refused);
    assert.equal(spaces[2].log.has(invocation.cid.toString()), false, "the comment is not in node 2's log");
  });
});
