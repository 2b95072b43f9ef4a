/**
 * A container job placed on a peer that lacks its image: the image is an
 * OCI archive another member imported, named by digest, and the running
 * peer fetches it from the mesh (in pieces: the base image is larger than
 * one blob frame), checks it against the digest and runs the job. Two
 * peers on loopback libp2p with content stores of their own; only the
 * image's owner holds the archive, only the other runs containers. With
 * podman where it runs, the same job on the podman backend.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, rmdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RunSpec } from "../../protocol/runner/runner.ts";
import { meshContentStore } from "../../protocol/runner/mesh-store.ts";
import { Scheduler } from "../../protocol/scheduler/scheduler.ts";
import type { Space } from "../../protocol/space/space.ts";
import { containerPlugin } from "../../bridges/containers/plugin.ts";
import { imageCid } from "../../bridges/containers/image-cache.ts";
import type { ContainerRunner } from "../../bridges/containers/runner.ts";
import { advert } from "../helpers/adverts.ts";
import { MemoryContentStore } from "../helpers/content-store.ts";
import { eventually, libp2pNode, mesh, type TestNode } from "../helpers/nodes.ts";
import { baseImage } from "./base-image.ts";

const CGROUP_PARENT = `weft-test-meshimg-${process.pid}`;

for (const backend of ["bwrap", "podman"] as const) {
  describe(`a ${backend} job on a peer without its image fetches it from the mesh`, { timeout: 300_000 }, () => {
    let nodes: TestNode[];
    let spaces: Space[];
    let scheduler: Scheduler | undefined;
    let runner: ContainerRunner | undefined;
    let unavailable: string | undefined;
    let state: string;
    let image: string;
    /** The image owner's store (holds the archive) and the runner's (starts empty). */
    const owner = new MemoryContentStore();
    const runnerStore = new MemoryContentStore();

    before(async () => {
      state = await mkdtemp(join(tmpdir(), "weft-meshimg-"));
      const base = await baseImage();
      image = base.digest;
      await owner.put(base.bytes);
      const made = await containerPlugin.create(
        containerPlugin.parseConfig({ backend, cgroup_parent: CGROUP_PARENT }),
        { stateDir: state, log: { debug() {}, info() {}, warn() {} } },
      );
      if ("unavailable" in made) {
        // bubblewrap must run wherever .ci/setup ran; podman only where it really runs (see the README).
        if (backend === "bwrap") throw new Error(`bubblewrap cannot run here: ${made.unavailable}; run .ci/setup`);
        unavailable = made.unavailable;
        return;
      }
      runner = made as ContainerRunner;
      nodes = await Promise.all([libp2pNode(), libp2pNode()]);
      const space = await nodes[0].node.createSpace("images");
      const invite = await nodes[0].node.invite(space.id, { audience: nodes[1].node.did, name: "runner" });
      await mesh(nodes);
      spaces = [space, await nodes[1].node.join(invite, { signal: AbortSignal.timeout(30_000) })];
      nodes[0].node.serveBlobs(owner);
      scheduler = new Scheduler({
        did: nodes[1].node.did,
        spaces: () => nodes[1].node.spaces(),
        adverts: (s) => nodes[1].node.gossip(s)?.adverts() ?? [],
        runners: [runner],
        store: meshContentStore(runnerStore, (cid, signal) => nodes[1].node.fetchBlob(cid, signal)),
        slots: 1,
      });
      await nodes[1].node.gossip(space.id)!.advertise(advert({ runners: ["container"], slots: 1, ttl: 600 }));
      await eventually(() => nodes[0].node.gossip(space.id)!.adverts().length === 1, 15_000, "the runner's advert");
      scheduler.start();
    });

    after(async () => {
      await scheduler?.stop();
      await runner?.close();
      await Promise.all((nodes ?? []).map((n) => n.node.stop()));
      for (const c of ["memory", "cpu", "pids"]) await rmdir(`/sys/fs/cgroup/${c}/${CGROUP_PARENT}`).catch(() => {});
      await rm(state, { recursive: true, force: true });
    });

    it("runs the job on the image it fetched, checked against its digest", async (t) => {
      if (unavailable) return t.skip(`podman does not run here: ${unavailable}`);
      assert.equal(await runnerStore.get(imageCid(image)), undefined, "the running peer starts without the image");
      const run: RunSpec = {
        runner: "container",
        program: image,
        args: ["bash", "-c", "echo ran on $(cat /etc/debian_version)"],
        inputs: [],
        env: [],
        limits: { wallMs: 120_000, memoryMb: 128, outputBytes: 1 << 20 },
      };
      const task = await spaces[0].createTask({ title: "needs the image", run });
      const done = await eventually(
        () => {
          const v = spaces[0].task(task.id);
          return v?.status === "done" || v?.status === "failed" ? v : undefined;
        },
        240_000,
        "the job ended",
      );
      const result = done!.results.at(-1);
      assert.equal(result?.by, nodes[1].node.did, "the peer without the image ran it");
      assert.equal(result?.outcome, "success", `the job succeeded: ${JSON.stringify(done!.comments.at(-1) ?? {})}`);
      const local = scheduler!.run(spaces[1].id, task.id);
      assert.ok(local?.log.lines().some((l) => /^ran on \d+/.test(l.text)), "its log has the image's own line");
      assert.ok(await runnerStore.get(imageCid(image)), "the fetched image is now in the running peer's store");
    });
  });
}
