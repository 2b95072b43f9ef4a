/**
 * Where a principal stands in a space (member, revoked by whom and when,
 * expired, never in it), as sessions and shells read it; and the `revoked`
 * frame that carries the records to the node that was cut off.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { SpaceAuthority } from "../../protocol/space/authority.ts";
import { chainExpiry, standingOf } from "../../protocol/space/standing.ts";
import { revoke } from "../../protocol/ucan/revocation.ts";
import { Commands } from "../../protocol/ucan/commands.ts";
import { decodeFrame, encodeFrame } from "../../protocol/sync/frames.ts";
import { chain, signers } from "../helpers/principals.ts";

const NOW_S = 1_800_000_000;
const NOW_MS = NOW_S * 1000;

describe("standing in a space", () => {
  it("member, revoked (by whom, when, with the records), expired, or none", async () => {
    const [root, admin, member, lapsed, stranger] = await signers(5);
    const authority = new SpaceAuthority({ space: root.did, clock: () => NOW_S });
    const [toAdmin, toMember] = await chain([root, admin, member], [{ cmd: "/weft" }, { cmd: Commands.spaceSync }]);
    const [toLapsed] = await chain([root, lapsed], [{ cmd: "/weft", exp: NOW_S - 10 }]);
    for (const d of [toAdmin, toMember, toLapsed]) await authority.addDelegation(d.bytes);

    assert.deepEqual(standingOf(authority, member.did, Commands.spaceSync, NOW_MS), { state: "member" });
    assert.deepEqual(standingOf(authority, lapsed.did, Commands.spaceSync, NOW_MS), {
      state: "expired",
      at: (NOW_S - 10) * 1000,
    });
    assert.deepEqual(standingOf(authority, stranger.did, Commands.spaceSync, NOW_MS), { state: "none" });

    const record = await revoke(admin, [toAdmin, toMember], { issuedAt: NOW_S - 5 });
    assert.equal(await authority.addRevocation(record.bytes), true);
    const st = standingOf(authority, member.did, Commands.spaceSync, NOW_MS);
    assert.equal(st.state, "revoked");
    assert.ok(st.state === "revoked");
    assert.equal(st.by, admin.did);
    assert.equal(st.at, (NOW_S - 5) * 1000);
    assert.equal(st.delegation, toMember.cid.toString());
    assert.deepEqual(st.records, [record.bytes]);
    // The admin, above the revoked delegation, is untouched.
    assert.deepEqual(standingOf(authority, admin.did, Commands.spaceSync, NOW_MS), { state: "member" });
  });

  it("revoking a delegation higher up cuts off everyone below it", async () => {
    const [root, admin, member] = await signers(3);
    const authority = new SpaceAuthority({ space: root.did, clock: () => NOW_S });
    const [toAdmin, toMember] = await chain([root, admin, member], [{ cmd: "/weft" }, { cmd: "/weft" }]);
    for (const d of [toAdmin, toMember]) await authority.addDelegation(d.bytes);
    await authority.addRevocation((await revoke(root, [toAdmin])).bytes);
    const st = standingOf(authority, member.did, Commands.spaceSync, NOW_MS);
    assert.ok(st.state === "revoked");
    assert.equal(st.by, root.did);
    assert.equal(st.at, undefined, "an undated record says no time");
  });

  it("a chain lapses at its earliest expiry", async () => {
    const [a, b, c] = await signers(3);
    const links = await chain([a, b, c], [{ exp: NOW_S + 100 }, { exp: NOW_S + 50 }]);
    assert.equal(chainExpiry(links), NOW_S + 50);
    assert.equal(chainExpiry(await chain([a, b], [{}])), null);
  });
});

describe("the revoked frame", () => {
  it("round-trips, and a malformed or oversized one is refused", async () => {
    const [space] = await signers(1);
    const frame = { type: "revoked" as const, space: space.did, records: [new Uint8Array([1, 2, 3])] };
    assert.deepEqual(decodeFrame(encodeFrame(frame)), frame);
    for (
      const bad of [
        { type: "revoked", space: "not a did", records: [new Uint8Array(1)] },
        { type: "revoked", space: space.did, records: [] },
        { type: "revoked", space: space.did, records: ["text"] },
        { type: "revoked", space: space.did, records: Array.from({ length: 17 }, () => new Uint8Array(1)) },
        { type: "revoked", space: space.did, records: [new Uint8Array(16 * 1024 + 1)] },
        { type: "revoked", space: space.did, records: [new Uint8Array(1)], extra: 1 },
        { t: "revoked", s: space.did, r: [new Uint8Array(1)] },
      ]
    ) {
      assert.throws(() => decodeFrame(encodeFrame(bad as never)), { code: "sync/protocol" });
    }
  });
});
