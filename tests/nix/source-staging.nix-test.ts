/**
 * A packed source uploaded to a peer with a nix runner is unpacked into the
 * runner's source cache as it lands, before any run asks for it (`weft run`
 * uploads, then submits at once: the unpack then overlaps the submit instead
 * of following the claim), and the build that follows reads that very tree.
 * Other artifacts (a tar that system tar wrote, plain bytes) are not
 * unpacked.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ArtifactClient } from "../../peer/artifacts/api-client.ts";
import { uploadSource } from "../../peer/cli/run-source.ts";
import { runnersCacheDir, runnerStateDir } from "../../peer/daemon/runner-plugins.ts";
import { nixPaths, parseNixConfig } from "../../bridges/nix/config.ts";
import { sourceCacheDir } from "../../bridges/nix/source-cache.ts";
import { newTaskId } from "../../protocol/space/index.ts";
import { type TestDaemon, testDaemon } from "../helpers/daemon.ts";
import { eventually } from "../helpers/nodes.ts";
import { BUSYBOX, nixSpec, removeProjects, WORDS_PROJECT, writeProject } from "./projects.ts";

describe("nix sources staged as they are uploaded", { timeout: 180_000 }, () => {
  let peer: TestDaemon;
  let space: string;
  let cacheDir: string;

  before(async () => {
    peer = await testDaemon({ WEFT_SLOTS: "1" });
    space = (await peer.client.get<{ spaces: Array<{ id: string }> }>("/v1/spaces")).spaces[0].id;
    assert.ok(peer.daemon.runs.scheduler.kinds.includes("nix"), "nix must run here for this test (.ci/setup)");
    const config = parseNixConfig({});
    const stateDir = runnerStateDir(runnersCacheDir(peer.home), "nix");
    const paths = nixPaths(config, stateDir);
    cacheDir = await sourceCacheDir(undefined, paths.cgroupGroup, config.maxSourceCacheBytes, paths.sourcesDir);
  });
  after(async () => {
    await peer.stop();
    removeProjects();
  });

  it("unpacks an uploaded source before its run is submitted, and the run reads that tree", async () => {
    const project = writeProject(WORDS_PROJECT);
    // Not sources: what system tar writes, and plain bytes. Uploaded first, so the source's staging follows theirs.
    const other = join(project, "other.tar");
    writeFileSync(other, execFileSync("tar", ["-c", "-C", project, "lib.nix"]));
    const plain = join(project, "plain.bin");
    writeFileSync(plain, new Uint8Array(4096).fill(3));
    const quiet = { hashing() {}, sending() {} };
    const artifacts = new ArtifactClient(peer.client);
    const notSources = [await artifacts.upload(space, other, quiet), await artifacts.upload(space, plain, quiet)];

    const source = await uploadSource(peer.client, space, project, undefined, () => {});
    const tree = join(cacheDir, source.cid);
    await eventually(() => existsSync(join(tree, "default.nix")), 30_000, "the uploaded source staged");
    for (const a of notSources) assert.equal(existsSync(join(cacheDir, a.cid)), false, "only sources are unpacked");
    const staged = statSync(join(tree, "default.nix")).ino;
    assert.ok(readFileSync(join(tree, "bb", "sh")).equals(readFileSync(BUSYBOX)), "the tree is the source's files");

    const task = newTaskId();
    await peer.client.op(space, "create", {
      task,
      title: "staged",
      run: nixSpec(source, "default.nix"),
      idempotencyKey: task,
    }, { path: `/v1/spaces/${encodeURIComponent(space)}/schedule` });
    const scheduler = peer.daemon.runs.scheduler;
    const run = await eventually(() => scheduler.run(space, task)!, 30_000, "the run started");
    await eventually(() => run.state === "done", 120_000, "the run's end");
    assert.equal(run.result?.status, "succeeded", run.result?.reason);
    assert.equal(statSync(join(tree, "default.nix")).ino, staged, "the run read the staged tree, not a new one");
  });
});
