/**
 * `weft run <dir>` uploads the packed source every time, so a source the
 * peer already holds is uploaded again, and the CLI goes on to submit the
 * job on the same connection: the peer must read the upload's body even
 * when it already holds the bytes (it used to answer early and close the
 * connection, so the next request failed with "other side closed").
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ArtifactClient } from "../../peer/artifacts/api-client.ts";
import { uploadSource } from "../../peer/cli/run-source.ts";
import { type TestDaemon, testDaemon } from "../helpers/daemon.ts";
import { removeProjects, WORDS_PROJECT, writeProject } from "./projects.ts";

describe("uploading a run's source", { timeout: 120_000 }, () => {
  let peer: TestDaemon;
  let space: string;
  let dir: string;

  before(async () => {
    peer = await testDaemon({ WEFT_SLOTS: "0" });
    space = (await peer.client.get<{ spaces: Array<{ id: string }> }>("/v1/spaces")).spaces[0].id;
    dir = await mkdtemp(join(tmpdir(), "weft-upload-"));
  });
  after(async () => {
    await peer.stop();
    await rm(dir, { recursive: true, force: true });
    removeProjects();
  });

  it("answers a second upload of bytes it already holds, and the next request on the connection", async () => {
    const file = join(dir, "big.bin");
    await writeFile(file, new Uint8Array(8 * 1024 * 1024).fill(42));
    const client = new ArtifactClient(peer.client);
    const quiet = { hashing() {}, sending() {} };
    const first = await client.upload(space, file, quiet);
    const again = await client.upload(space, file, quiet);
    assert.equal(again.cid, first.cid);
    await peer.client.get("/v1/spaces");
  });

  it("uploads the same project twice to the same CID, then goes on", async () => {
    const project = writeProject(WORDS_PROJECT);
    const warn: string[] = [];
    const a = await uploadSource(peer.client, space, project, undefined, (t) => warn.push(t));
    const b = await uploadSource(peer.client, space, project, undefined, (t) => warn.push(t));
    await peer.client.get("/v1/spaces");
    assert.deepEqual(a, b);
    assert.equal(a.commit, undefined, "a plain directory has no commit");
    assert.deepEqual(warn, []);
    assert.ok(await peer.daemon.artifacts.contentStore().get(a.cid));
  });
});
