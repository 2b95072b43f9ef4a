/**
 * Claims between real schedulers on in-process nodes whose links are slow
 * (every frame delayed) or held back (a partition that loses nothing), with
 * the real WebAssembly runner: a burst as large as the mesh's free slots
 * starts every job exactly once, however long claims take to travel; and
 * when two nodes did claim one job concurrently, the loser stops it and
 * frees its slot as soon as the claims meet, the winner's run goes on, and
 * exactly one result counts. A job placed on a node that advertises but
 * never claims is not stranded: the others take it after the fallback wait.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Runner, RunSpec } from "../../protocol/runner/runner.ts";
import { Scheduler } from "../../protocol/scheduler/scheduler.ts";
import type { Space } from "../../protocol/space/space.ts";
import { createNodeWasmRunner } from "../../wasm-runners/runtime-node/runner.ts";
import type { WasmRunner } from "../../wasm-runners/core/runner.ts";
import { sampleSpec } from "../../wasm-runners/samples/build.ts";
import { advert } from "../helpers/adverts.ts";
import { MemoryContentStore } from "../helpers/content-store.ts";
import { eventually, memoryNode, type SlowLink, slowLink, type TestNode } from "../helpers/nodes.ts";

/** A space on `n` memory nodes, every pair joined by a slow link; node 0 created it and runs nothing. */
async function slowMesh(n: number, delayMs: number) {
  const nodes = await Promise.all(Array.from({ length: n }, () => memoryNode()));
  const space = await nodes[0].node.createSpace("claims");
  const invites = await Promise.all(
    nodes.slice(1).map((t, i) => nodes[0].node.invite(space.id, { audience: t.node.did, name: `worker${i}` })),
  );
  const links = new Map<string, SlowLink>();
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) links.set(`${i}-${j}`, slowLink(nodes[i], nodes[j], delayMs));
  }
  const spaces: Space[] = [
    space,
    ...await Promise.all(
      nodes.slice(1).map((t, i) => t.node.join(invites[i], { signal: AbortSignal.timeout(30_000) })),
    ),
  ];
  return { nodes, spaces, links: [...links.values()] };
}

/** A scheduler per worker (nodes 1..), re-advertising its free slots when they change, as a daemon does. */
function workers(nodes: TestNode[], space: string, slots: number, tag: string): Scheduler[] {
  const offer = advert({ memoryMb: { total: 4096, free: 2048 }, slots, ttl: 600 });
  const schedulers: Scheduler[] = nodes.slice(1).map((t, i) => {
    let soon: ReturnType<typeof setTimeout> | undefined;
    return new Scheduler({
      did: t.node.did,
      spaces: () => t.node.spaces(),
      adverts: (s) => t.node.gossip(s)?.adverts() ?? [],
      runners: [noting(`${tag}${i + 1}`)],
      store,
      slots,
      leaseMs: 30_000,
      capacityChanged: () =>
        soon ??= setTimeout(() => {
          soon = undefined;
          const s = schedulers[i];
          void t.node.gossip(space)?.advertise({ ...offer, running: s.running, slots: s.free });
        }, 100),
    });
  });
  return schedulers;
}

async function advertiseAll(nodes: TestNode[], space: string, slots: number): Promise<void> {
  const offer = advert({ memoryMb: { total: 4096, free: 2048 }, slots, ttl: 600 });
  for (const t of nodes.slice(1)) await t.node.gossip(space)!.advertise(offer);
  await eventually(
    () => nodes.every((t) => t.node.gossip(space)!.adverts().length === nodes.length - 1),
    30_000,
    "every worker's advert on every node",
  );
}

const store = new MemoryContentStore();
let wasm: WasmRunner;
/** Which worker started which job (by its JOB variable), in order. */
const starts: { job: string; worker: string }[] = [];
const noting = (worker: string): Runner => ({
  kind: "wasm",
  available: () => wasm.available(),
  start(spec, s) {
    starts.push({ job: spec.env[0].value, worker });
    return wasm.start(spec, s);
  },
});
const job = async (label: string, ms: number): Promise<RunSpec> => ({
  ...await sampleSpec(store, "sleep", { args: [String(ms)], limits: { wallMs: ms + 60_000 } }),
  env: [{ name: "JOB", value: label }],
});

describe("claims across slow links", { timeout: 180_000 }, () => {
  before(async () => {
    wasm = createNodeWasmRunner();
    await wasm.warmUp();
  });
  after(() => wasm.close());

  it("a burst as large as the free slots starts every job exactly once, with claims 150 ms apart", async () => {
    const { nodes, spaces } = await slowMesh(4, 150);
    const scheds = workers(nodes, spaces[0].id, 2, "burst worker ");
    try {
      await advertiseAll(nodes, spaces[0].id, 2);
      for (const s of scheds) s.start();
      const ids: string[] = [];
      for (let i = 0; i < 6; i++) {
        ids.push((await spaces[0].createTask({ title: `burst ${i}`, run: await job(`burst-${i}`, 1000) })).id);
      }
      await eventually(
        () => ids.every((id) => spaces[0].task(id)?.status === "done"),
        90_000,
        "every job done, as the submitter sees it",
      );
      const burst = starts.filter((s) => s.job.startsWith("burst-"));
      const byJob = Map.groupBy(burst, (s) => s.job);
      assert.equal(byJob.size, 6, "every job started");
      for (const [label, runs] of byJob) {
        assert.equal(runs.length, 1, `${label} started once, not on workers ${runs.map((r) => r.worker)}`);
      }
      for (const id of ids) assert.equal(spaces[0].task(id)!.results.length, 1, "one result per job");
    } finally {
      await Promise.all(scheds.map((s) => s.stop()));
      await Promise.all(nodes.map((t) => t.node.stop()));
    }
  });

  it("of two concurrent claims, the loser stops and frees its slot as soon as they meet; one result counts", async () => {
    const { nodes, spaces, links } = await slowMesh(3, 20);
    const scheds = workers(nodes, spaces[0].id, 1, "contest worker ");
    try {
      await advertiseAll(nodes, spaces[0].id, 1);
      const task = await spaces[0].createTask({ title: "contested", run: await job("contested", 20_000) });
      await eventually(() => spaces.every((s) => s.task(task.id)), 30_000, "the job on every node");
      // Nothing travels from here on: each worker sees the job open and nobody else's claim.
      for (const l of links) l.hold();
      for (const s of scheds) s.start();
      await eventually(
        () => scheds.every((s) => s.run(spaces[0].id, task.id)?.state === "running"),
        30_000,
        "both running",
      );
      for (const l of links) l.release();
      const loser = (await eventually(
        () => scheds.find((s) => s.run(spaces[0].id, task.id)?.reason !== undefined && s.free === 1),
        30_000,
        "one worker stopped its run and freed its slot",
      ))!;
      const winner = scheds.find((s) => s !== loser)!;
      assert.match(loser.run(spaces[0].id, task.id)!.reason!, /lost the lease/);
      assert.equal(winner.run(spaces[0].id, task.id)?.state, "running", "the winner's run goes on meanwhile");
      await eventually(() => spaces[0].task(task.id)?.status === "done", 90_000, "the job done");
      const results = spaces[0].task(task.id)!.results;
      assert.equal(results.length, 1, "exactly one result counts");
      assert.equal(results[0].by, nodes[scheds.indexOf(winner) + 1].node.did);
    } finally {
      await Promise.all(scheds.map((s) => s.stop()));
      await Promise.all(nodes.map((t) => t.node.stop()));
    }
  });

  it("a job placed on a node that advertises but never claims is taken by another after the fallback wait", async () => {
    const { nodes, spaces } = await slowMesh(3, 20);
    // Worker 1 advertises a slot but runs no scheduler (stalled, or gone with its advert still live).
    const [stalled, live] = workers(nodes, spaces[0].id, 1, "fallback worker ");
    try {
      await advertiseAll(nodes, spaces[0].id, 1);
      live.start();
      const ids: string[] = [];
      for (let i = 0; i < 2; i++) {
        ids.push((await spaces[0].createTask({ title: `placed ${i}`, run: await job(`placed-${i}`, 200) })).id);
      }
      await eventually(() => ids.every((id) => spaces[0].task(id)?.status === "done"), 60_000, "both jobs done");
      for (const id of ids) {
        assert.equal(spaces[0].task(id)!.results[0].by, nodes[2].node.did, "run by the worker that claims");
      }
      assert.equal(stalled.runs().length, 0);
    } finally {
      await live.stop();
      await Promise.all(nodes.map((t) => t.node.stop()));
    }
  });
});
