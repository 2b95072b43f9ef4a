/**
 * Container jobs land only where the kind runs: two peers on loopback
 * libp2p, one with the container runner (real bubblewrap) and one with only
 * the WebAssembly runner, each advertising what it runs. Container jobs
 * submitted on the peer without containers all run on the other; the
 * WebAssembly-only peer never starts one.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, rmdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Runner, RunSpec } from "../../protocol/runner/runner.ts";
import { Scheduler } from "../../protocol/scheduler/scheduler.ts";
import type { Space } from "../../protocol/space/space.ts";
import { containerPlugin } from "../../bridges/containers/plugin.ts";
import type { ContainerRunner } from "../../bridges/containers/runner.ts";
import { createNodeWasmRunner } from "../../wasm-runners/runtime-node/runner.ts";
import { advert } from "../helpers/adverts.ts";
import { MemoryContentStore } from "../helpers/content-store.ts";
import { eventually, libp2pNode, mesh, type TestNode } from "../helpers/nodes.ts";
import { baseImage } from "./base-image.ts";

const CGROUP_PARENT = `weft-test-place-${process.pid}`;

describe("container jobs land only where containers run", { timeout: 120_000 }, () => {
  let nodes: TestNode[];
  let spaces: Space[];
  let schedulers: Scheduler[];
  let containers: ContainerRunner;
  let state: string;
  let image: string;
  const startedOn: Record<string, string[]> = { containers: [], wasmOnly: [] };

  /** A runner that notes which node started which job. */
  const noting = (runner: Runner, node: string): Runner => ({
    kind: runner.kind,
    available: () => runner.available(),
    start(spec, s) {
      startedOn[node].push(spec.env[0]?.value ?? "");
      return runner.start(spec, s);
    },
  });

  before(async () => {
    state = await mkdtemp(join(tmpdir(), "weft-placement-"));
    const store = new MemoryContentStore();
    const base = await baseImage();
    image = base.digest;
    await store.put(base.bytes);
    const made = await containerPlugin.create(containerPlugin.parseConfig({ cgroup_parent: CGROUP_PARENT }), {
      stateDir: state,
      log: { debug() {}, info() {}, warn() {} },
    });
    if ("unavailable" in made) throw new Error(`containers cannot run here: ${made.unavailable}; run .ci/setup`);
    containers = made as ContainerRunner;
    assert.equal((await (containers.start({ ...job("warm-up"), args: ["true"] }, store)).done).status, "succeeded");

    nodes = await Promise.all([libp2pNode(), libp2pNode()]);
    const space = await nodes[0].node.createSpace("placement");
    const invite = await nodes[0].node.invite(space.id, { audience: nodes[1].node.did, name: "wasm-only" });
    await mesh(nodes);
    spaces = [space, await nodes[1].node.join(invite, { signal: AbortSignal.timeout(30_000) })];
    const runners = [noting(containers, "containers"), noting(createNodeWasmRunner(), "wasmOnly")];
    schedulers = nodes.map((n, i) =>
      new Scheduler({
        did: n.node.did,
        spaces: () => n.node.spaces(),
        adverts: (s) => n.node.gossip(s)?.adverts() ?? [],
        runners: [runners[i]],
        store,
        slots: 2,
      })
    );
    await nodes[0].node.gossip(space.id)!.advertise(advert({ runners: ["container"], slots: 2, ttl: 600 }));
    await nodes[1].node.gossip(space.id)!.advertise(advert({ runners: ["wasm"], slots: 2, ttl: 600 }));
    await eventually(
      () => nodes.every((n) => n.node.gossip(space.id)!.adverts().length === 2),
      15_000,
      "both adverts on both peers",
    );
    for (const s of schedulers) s.start();
  });

  after(async () => {
    await Promise.all((schedulers ?? []).map((s) => s.stop()));
    await containers?.close();
    await Promise.all((nodes ?? []).map((n) => n.node.stop()));
    for (const c of ["memory", "cpu", "pids"]) await rmdir(`/sys/fs/cgroup/${c}/${CGROUP_PARENT}`).catch(() => {});
    await rm(state, { recursive: true, force: true });
  });

  const job = (label: string): RunSpec => ({
    runner: "container",
    program: image,
    args: ["bash", "-c", `echo ${label} ran`],
    inputs: [],
    env: [{ name: "LABEL", value: label }],
    limits: { wallMs: 30_000, memoryMb: 64, outputBytes: 1 << 20 },
  });

  it("every container job submitted on the peer without containers runs on the one with them", async () => {
    const labels = ["job-1", "job-2", "job-3"];
    const tasks = await Promise.all(labels.map((l) => spaces[1].createTask({ title: l, run: job(l) })));
    for (const t of tasks) {
      const done = await eventually(
        () => {
          const v = spaces[0].task(t.id);
          return v?.status === "done" ? v : undefined;
        },
        60_000,
        `${t.title} done`,
      );
      assert.equal(done!.results.at(-1)?.by, nodes[0].node.did, "the result is the container peer's");
      assert.equal(done!.results.at(-1)?.outcome, "success");
    }
    assert.deepEqual([...startedOn.containers].sort(), labels, "the container peer started each once");
    assert.deepEqual(startedOn.wasmOnly, [], "the wasm-only peer started no container job");
  });
});
