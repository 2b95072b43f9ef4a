/**
 * Two nodes over in-process channels: joining with an invite, tasks both
 * ways, a session that stays up however often membership changes, and one
 * that stops sharing a space when the member's delegation lapses or is
 * revoked (the member's node told, and converging).
 */
import { describe, it } from "node:test";
import type { DocumentId } from "@automerge/automerge-repo";
import assert from "node:assert/strict";
import { eventually, link, memoryNode, type TestNode } from "../helpers/nodes.ts";
import { standingOf } from "../../protocol/space/standing.ts";
import { Commands } from "../../protocol/ucan/commands.ts";

/** a's space, joined by b over a memory link with a delegation that lapses at `expiration` (Unix s), if given. */
async function shared(a: TestNode, b: TestNode, expiration?: number) {
  const space = await a.node.createSpace("team");
  const invite = await a.node.invite(space.id, { audience: b.node.did, name: "bob", expiration });
  link(a, b);
  const joined = await b.node.join(invite, { signal: AbortSignal.timeout(10_000) });
  const t = await space.createTask({ title: "while b is a member" });
  await eventually(() => joined.task(t.id), 10_000, "task on b");
  return { space, joined };
}

/** Nothing in flight reaches b in this long: a session pushes a change within milliseconds. */
const QUIET_MS = 1500;

describe("two nodes over in-process channels", () => {
  it("a member joins with an invite and tasks flow both ways", async () => {
    const a = await memoryNode();
    const b = await memoryNode();
    try {
      const space = await a.node.createSpace("team");
      const invite = await a.node.invite(space.id, { audience: b.node.did, name: "bob" });
      link(a, b);
      const joined = await b.node.join(invite, { signal: AbortSignal.timeout(10_000) });
      assert.equal(joined.id, space.id);
      assert.equal(joined.name, "team");
      const t = await space.createTask({ title: "write docs", labels: ["docs"] });
      const seen = await eventually(() => joined.task(t.id), 10_000, "task on b");
      assert.equal(seen?.title, "write docs");
      const t2 = await joined.createTask({ title: "from b" });
      await eventually(() => space.task(t2.id), 10_000, "task on a");
      assert.deepEqual(space.members().map((m) => m.did).sort(), [a.node.did, b.node.did].sort());
    } finally {
      await a.node.stop();
      await b.node.stop();
    }
  });

  it("a session outlasts hundreds of membership changes", async () => {
    // Each change makes both sides prove again; the proofs must replace the old ones, not pile up
    // until the session hits its limit and closes.
    const a = await memoryNode();
    const b = await memoryNode();
    try {
      const space = await a.node.createSpace("busy");
      link(a, b);
      const joined = await b.node.join(await a.node.invite(space.id, { audience: b.node.did }), {
        signal: AbortSignal.timeout(10_000),
      });
      const session = [...a.memory!.sessions.values()][0];
      assert.ok(session, "a has a session with b");
      for (let i = 0; i < 300; i++) await a.node.invite(space.id);
      await eventually(() => [...joined.authority.delegations].length > 300, 30_000, "b has every delegation");
      const t = await space.createTask({ title: "after the churn" });
      await eventually(() => joined.task(t.id), 10_000, "task on b");
      assert.equal([...a.memory!.sessions.values()][0], session, "still the same session");
    } finally {
      await a.node.stop();
      await b.node.stop();
    }
  });

  it("stops sharing the space with a member whose delegation lapsed", async () => {
    const a = await memoryNode();
    const b = await memoryNode();
    try {
      const expiration = Math.floor(Date.now() / 1000) + 3;
      // b's node notices its own delegation lapse (its UI and sessions re-check then), without any other event.
      // Listened to from the start: on a loaded machine the lapse may come before the join has settled.
      const changes: Array<{ id: string; at: number }> = [];
      const off = b.node.authority.onChange((id) => changes.push({ id, at: Date.now() }));
      const { space, joined } = await shared(a, b, expiration);
      const lapsed = () => changes.some((c) => c.id === space.id && c.at >= (expiration + 1) * 1000);
      await eventually(lapsed, 10_000, "b's node notices the lapse");
      off();
      assert.equal(b.node.authority.offers(space.id), false, "b no longer offers the space");
      // a's own re-check of b's proof runs at the same second; give it a moment to land.
      await eventually(() => Date.now() > (expiration + 1) * 1000 + 200, 10_000, "a re-checked too");
      const t = await space.createTask({ title: "after b's delegation lapsed" });
      await new Promise((r) => setTimeout(r, QUIET_MS));
      assert.equal(joined.task(t.id), undefined, "b receives nothing new");
      assert.equal(standingOf(joined.authority, b.node.did, Commands.spaceSync, Date.now()).state, "expired");
    } finally {
      await a.node.stop();
      await b.node.stop();
    }
  });

  it("tells a revoked member, which checks the record itself and stops offering the space", async () => {
    const a = await memoryNode();
    const b = await memoryNode();
    try {
      const { space, joined } = await shared(a, b);
      // a's share policy (what automerge-repo asks per peer and document) grants b the space document…
      const share = a.node.repo.shareConfig;
      const bPeer = b.node.repo.peerId;
      const doc = space.url.replace(/^automerge:/, "") as DocumentId;
      assert.equal(await share.access(bPeer, doc), true, "a lets b sync the space document");
      assert.equal(await share.announce(bPeer, doc), true, "and offers it unasked");
      const toB = [...space.authority.delegations].find((d) => d.aud === b.node.did)!;
      await space.revoke(toB.cid.toString());
      // …and stops the moment b's session loses the space.
      await eventually(async () => !(await share.access(bPeer, doc)), 10_000, "a's share policy drops b");
      assert.equal(await share.announce(bPeer, doc), false, "nor offers it");
      const st = await eventually(
        () => {
          const s = standingOf(joined.authority, b.node.did, Commands.spaceSync, Date.now());
          return s.state === "revoked" ? s : undefined;
        },
        10_000,
        "b learns it was revoked",
      );
      assert.equal(st?.state === "revoked" && st.by, a.node.did);
      assert.ok(joined.authority.isRevoked(toB.cid), "b applied the record to its own copy of the space");
      assert.equal(b.node.authority.offers(space.id), false, "b no longer offers the space");
      const t = await space.createTask({ title: "after the revocation" });
      await new Promise((r) => setTimeout(r, QUIET_MS));
      assert.equal(joined.task(t.id), undefined, "b receives nothing new");
    } finally {
      await a.node.stop();
      await b.node.stop();
    }
  });
});
