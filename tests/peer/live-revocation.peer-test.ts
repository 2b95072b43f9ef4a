/**
 * A session rests on a delegation: two peer processes share a space, and
 * once the member's delegation is revoked or expires, the other peer stops
 * sending it the space within seconds. The revoked member's own node learns
 * it from the revoker (a signed record it checks itself) and says so.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import process from "node:process";
import { eventually } from "../helpers/nodes.ts";
import { type TestDaemon, testDaemon } from "../helpers/daemon.ts";
import { type PeerProcess, startPeer, stopPeer, weft } from "../helpers/peer-process.ts";

const run = promisify(execFile);
const CLI = new URL("../../peer/cli/weft.js", import.meta.url).pathname;

interface Standing {
  state: string;
  by?: string;
  at?: number;
}

const enc = encodeURIComponent;

/** The member b (a daemon in this process, so the test can look into its node) joins a's space. */
async function share(a: PeerProcess, b: TestDaemon, expires?: string): Promise<{ space: string; bDid: string }> {
  const bDid = b.daemon.node.did;
  const invite = await weft(a, "space", "invite", "--to", bDid, ...(expires ? ["--expires", expires] : []));
  const joined = await b.client.request<{ id: string }>("POST", "/v1/spaces/join", { invite, peers: [a.address] });
  return { space: joined.id, bDid };
}

const taskOn = (b: TestDaemon, space: string, id: string) => b.daemon.node.space(space)?.task(id);

/** b's standing in a space, as its API lists its spaces. */
async function standingOf(b: TestDaemon, space: string): Promise<Standing | undefined> {
  const { spaces } = await b.client.get<{ spaces: Array<{ id: string; standing?: Standing }> }>("/v1/spaces");
  return spaces.find((s) => s.id === space)?.standing;
}

async function addTask(p: PeerProcess, space: string, title: string): Promise<string> {
  return JSON.parse(await weft(p, "task", "add", title, "--space", space, "--json")).id;
}

/** Nothing in flight reaches b in this long: sessions push a change within milliseconds. */
const QUIET_MS = 3000;

describe("live revocation and expiry between peer processes", () => {
  it("a revoked member stops receiving the space and its node reports who revoked it", async () => {
    const [a, b] = await Promise.all([startPeer(), testDaemon()]);
    try {
      const { space, bDid } = await share(a, b);
      const before = await addTask(a, space, "before the revocation");
      await eventually(() => taskOn(b, space, before), 15_000, "b receives the space");
      const aDid = await weft(a, "id");
      const apiA = await a.api();
      const { capabilities } = await apiA.get<{ capabilities: Array<{ cid: string; aud: string }> }>(
        `/v1/spaces/${enc(space)}/capabilities`,
      );
      const cid = capabilities.find((c) => c.aud === bDid)!.cid;
      // The CLI says what happens to b's work and revokes nothing until told so.
      const unconfirmed = await weft(a, "space", "revoke", cid, "--space", space).then(
        () => "revoked without confirmation",
        (e) => String(e.stderr),
      );
      assert.match(unconfirmed, /loses access now; their operations signed before this revocation stay/);
      assert.match(unconfirmed, /--void-since/);
      assert.match(unconfirmed, /Add --yes to confirm/);
      await weft(a, "space", "revoke", cid, "--space", space, "--yes");
      const standing = (await eventually(
        async (): Promise<Standing | false> => {
          const s = await standingOf(b, space);
          return s?.state === "revoked" ? s : false;
        },
        10_000,
        "b learns it was revoked",
      )) as Standing;
      assert.equal(standing.by, aDid);
      assert.ok(typeof standing.at === "number" && Math.abs(standing.at - Date.now()) < 60_000);
      // a's members list says who was removed, by whom.
      const { removed } = await apiA.get<{ removed: Array<{ did: string; state: string; by?: string }> }>(
        `/v1/spaces/${enc(space)}/members`,
      );
      assert.deepEqual(removed.map((m) => [m.did, m.state, m.by]), [[bDid, "revoked", aDid]]);
      assert.match(await weft(a, "space", "members", "--space", space), new RegExp(`${bDid}  revoked by ${aDid}`));
      const after = await addTask(a, space, "after the revocation");
      await new Promise((r) => setTimeout(r, QUIET_MS));
      assert.equal(await taskOn(b, space, after), undefined, "a revoked member receives nothing new");
      // The CLI says so too.
      const cli = await run(process.execPath, [CLI, "space", "list"], { env: { ...process.env, WEFT_HOME: b.home } });
      assert.match(cli.stdout, new RegExp(`revoked by ${aDid.slice(0, 16)}`));
      // And acting in the space says why it cannot, rather than failing on a broken chain.
      const refused = await run(process.execPath, [CLI, "task", "list", "--space", space], {
        env: { ...process.env, WEFT_HOME: b.home },
      }).then(() => "", (e) => String(e.stderr));
      assert.match(refused, new RegExp(`removed from space ${space} by ${aDid}`));
    } finally {
      await Promise.all([stopPeer(a), b.stop()]);
    }
  });

  it("a member whose delegation expired stops receiving the space", async () => {
    const [a, b] = await Promise.all([startPeer(), testDaemon()]);
    try {
      const expiresAt = Date.now() + 12_000;
      const { space } = await share(a, b, "12s");
      const before = await addTask(a, space, "while the delegation holds");
      await eventually(() => taskOn(b, space, before), 15_000, "b receives the space");
      assert.ok(Date.now() < expiresAt, "the test set up before the delegation lapsed");
      await eventually(() => Date.now() > expiresAt + 2000, 20_000, "the delegation lapses");
      const after = await addTask(a, space, "after the expiry");
      await new Promise((r) => setTimeout(r, QUIET_MS));
      assert.equal(await taskOn(b, space, after), undefined, "an expired member receives nothing new");
      assert.equal((await standingOf(b, space))?.state, "expired");
    } finally {
      await Promise.all([stopPeer(a), b.stop()]);
    }
  });
});
