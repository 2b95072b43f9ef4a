/**
 * Powerlines a node issued can be taken back node-wide, with real peer
 * processes: a powerline from `weft cap delegate --powerline` acts in the
 * node's spaces (on this peer and, with its chain, on another member's);
 * `weft cap unpower` revokes it, after which this peer's API refuses it at
 * once and after a restart, and the other member refuses it once the
 * revocation reaches it. `weft cap powerlines` lists it, revoked.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { ApiClient } from "../../peer/api/client.ts";
import { type Credentials, loadCredentials } from "../../peer/api/credentials.ts";
import { generateSeed } from "../../protocol/identity/ed25519.ts";
import { nativeSigner } from "../../peer/crypto/native-signer.ts";
import { newTaskId } from "../../protocol/space/index.ts";
import { eventually } from "../helpers/nodes.ts";
import { delegationIn } from "../helpers/principals.ts";
import { joinPeer, killPeer, type PeerProcess, startPeer, stopPeer, weft } from "../helpers/peer-process.ts";

describe("powerlines", { timeout: 300_000 }, () => {
  const running: PeerProcess[] = [];
  after(async () => {
    await Promise.all(running.map((p) => stopPeer(p)));
  });
  const start = async (home?: string) => {
    const p = await startPeer({}, home);
    running.push(p);
    return p;
  };

  it("are listed, and one revoked with weft cap unpower is refused here, after a restart, and by other members", async () => {
    let a = await start();
    const b = await start();
    const space = await joinPeer(a, b);
    const key = nativeSigner(generateSeed());
    const granted = JSON.parse(
      await weft(a, "cap", "delegate", "--to", key.did, "--command", "/weft", "--powerline", "--name", "ci", "--json"),
    ) as { cid: string; chains: Record<string, string[]>; container: string };
    const powerline = await delegationIn(granted.container, granted.cid);
    const nodeChain = granted.chains[space].slice(0, -1);
    const creds = async (p: PeerProcess): Promise<Credentials> => {
      const there = await loadCredentials(p.home);
      return { url: there.url, node: there.node, signer: key, nodeDelegation: powerline, powerline };
    };
    const create = async (client: ApiClient) => {
      const task = newTaskId();
      await client.op(space, "create", { task, title: "by the powerline" });
      return task;
    };
    const atA = new ApiClient(await creds(a), undefined, { [space]: nodeChain });
    const atB = new ApiClient(await creds(b), undefined, { [space]: nodeChain });
    await create(atA);
    await create(atB);

    const listed = JSON.parse(await weft(a, "cap", "powerlines", "--json")) as {
      powerlines: Array<{ cid: string; aud: string; name?: string; revoked: boolean }>;
    };
    assert.deepEqual(
      listed.powerlines.filter((p) => p.cid === granted.cid).map((p) => [p.aud, p.name, p.revoked]),
      [[key.did, "ci", false]],
    );

    const revoked = JSON.parse(await weft(a, "cap", "unpower", granted.cid, "--json")) as { spaces: number };
    assert.equal(revoked.spaces, 1);
    await assert.rejects(create(atA), /revoked/i, "this peer refuses it at once");
    await eventually(
      () => create(atB).then(() => false, (e) => /revoked/i.test(String(e))),
      30_000,
      "b refuses it once the revocation reaches it",
    );
    const after = JSON.parse(await weft(a, "cap", "powerlines", "--json")) as {
      powerlines: Array<{ cid: string; revoked: boolean }>;
    };
    assert.equal(after.powerlines.find((p) => p.cid === granted.cid)?.revoked, true);

    await killPeer(a);
    running.splice(running.indexOf(a), 1);
    a = await start(a.home);
    await assert.rejects(
      create(new ApiClient(await creds(a), undefined, { [space]: nodeChain })),
      /revoked/i,
      "still refused after a restart",
    );
    await assert.rejects(
      weft(a, "cap", "unpower", "bafyreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"),
      /no powerline/,
    );
  });
});
