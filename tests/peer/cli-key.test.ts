/**
 * The local CLI's key across restarts and after a leak, with real peer
 * processes: a restart keeps the CLI's key (it does not become a second
 * member), and `weft cli rotate` gives it a new one while the old key —
 * say, a copy of cli.json that leaked — is refused by this peer's API, by
 * another member's (once the revocation reaches it), and still after a restart.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApiClient } from "../../peer/api/client.ts";
import { type Credentials, loadCredentials } from "../../peer/api/credentials.ts";
import { newTaskId } from "../../protocol/space/index.ts";
import { eventually } from "../helpers/nodes.ts";
import { joinPeer, killPeer, type PeerProcess, startPeer, stopPeer, weft } from "../helpers/peer-process.ts";

describe("the CLI's key", { timeout: 180_000 }, () => {
  const running: PeerProcess[] = [];
  const dirs: string[] = [];
  after(async () => {
    await Promise.all(running.map((p) => stopPeer(p)));
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });
  const start = async (home?: string) => {
    const p = await startPeer({}, home);
    running.push(p);
    return p;
  };
  const restart = async (p: PeerProcess) => {
    await killPeer(p);
    running.splice(running.indexOf(p), 1);
    return await start(p.home);
  };
  /** A task created with `client`; resolves to its creator. */
  const create = async (client: ApiClient, space: string) => {
    const task = newTaskId();
    await client.op(space, "create", { task, title: `by ${client.signer.did.slice(-6)}` });
    return (await client.get<{ creator: string }>(`/v1/spaces/${encodeURIComponent(space)}/tasks/${task}`)).creator;
  };
  /** The same key and its chain through this peer, sent to another member's API. */
  const aimedAt = async (creds: Credentials, p: PeerProcess, space: string): Promise<ApiClient> => {
    const { spaces } = await new ApiClient(creds).get<{ spaces: Array<{ id: string; chain: string[] }> }>("/v1/spaces");
    const there = await loadCredentials(p.home);
    const chain = spaces.find((s) => s.id === space)!.chain;
    return new ApiClient({ ...creds, url: there.url, node: there.node }, there.url, { [space]: chain });
  };

  it("is kept across a restart, and a rotated key is refused everywhere, restarts included", async () => {
    let a = await start();
    const b = await start();
    const space = await joinPeer(a, b);
    const first = await loadCredentials(a.home);
    assert.equal(await create(new ApiClient(first), space), first.signer.did);

    a = await restart(a);
    await weft(a, "join", b.address); // its port changed: it dials b again
    const kept = await loadCredentials(a.home);
    assert.equal(kept.signer.did, first.signer.did, "the same CLI key after a restart");
    assert.notEqual(kept.url, undefined);
    assert.equal(await create(new ApiClient(kept), space), first.signer.did, "and it still acts as itself");

    // A copy of cli.json leaks; before rotation it works on this peer and on another member's.
    const leakedHome = await mkdtemp(join(tmpdir(), "weft-leaked-cli-"));
    dirs.push(leakedHome);
    await cp(join(a.home, "cli.json"), join(leakedHome, "cli.json"));
    const leaked = await loadCredentials(leakedHome);
    const leakedAtB = await aimedAt(leaked, b, space);
    assert.equal(await create(leakedAtB, space), leaked.signer.did, "b accepts the key before rotation");

    const rotated = JSON.parse(await weft(a, "cli", "rotate", "--json")) as { did: string; spaces: number };
    assert.notEqual(rotated.did, leaked.signer.did);
    assert.equal(rotated.spaces, 1);
    const fresh = await loadCredentials(a.home);
    assert.equal(fresh.signer.did, rotated.did, "cli.json holds the new key");
    assert.equal(await create(new ApiClient(fresh), space), rotated.did, "the new key works at once");

    const refused = async (creds: Credentials) => {
      await assert.rejects(new ApiClient(creds).get("/v1/node"), /revoked|401|403/i, "node routes");
      await assert.rejects(create(new ApiClient(creds), space), /revoked/i, "space operations");
    };
    await refused(leaked);
    await eventually(
      () => create(leakedAtB, space).then(() => false, (e) => /revoked/i.test(String(e))),
      30_000,
      "b refuses the old key once the revocation reaches it",
    );

    a = await restart(a);
    await refused({ ...leaked, url: (await loadCredentials(a.home)).url });
    assert.equal((await loadCredentials(a.home)).signer.did, rotated.did, "the rotated key is the one kept");
  });
});
