/**
 * A bridge that brings compute (the kubernetes bridge's cluster) runs the
 * mesh's jobs as its own principal: hosted on a node, it advertises its
 * capacity under its DID, and the claim, start, renewals and result of each
 * job it runs are signed by its key under what members delegated to it —
 * another node sees the bridge, not the node hosting it, holding the lease
 * and reporting. Without the delegation it advertises nothing and cannot
 * claim. Another member reads the log of a run the bridge holds, from the
 * node hosting it. The runner here finishes at once: the cluster behind it is
 * tested end to end in tests/kubernetes/cluster.kube-test.ts.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { hostBridge } from "../../protocol/bridge/context.ts";
import { generateSeed } from "../../protocol/identity/ed25519.ts";
import type { ManagedRunner } from "../../protocol/runner/plugin.ts";
import type { RunSpec } from "../../protocol/runner/runner.ts";
import { type Compute, startCompute } from "../../protocol/scheduler/compute.ts";
import { runLog } from "../../protocol/scheduler/run-log-service.ts";
import { Commands } from "../../protocol/ucan/commands.ts";
import { nativeSigner } from "../../peer/crypto/native-signer.ts";
import { LogChannel } from "../../wasm-runners/core/log-channel.ts";
import { kubernetesBridge } from "../../bridges/kubernetes/bridge.ts";
import { MemoryContentStore } from "../helpers/content-store.ts";
import { eventually, link, memoryNode, type TestNode } from "../helpers/nodes.ts";

const quiet = { info() {}, warn() {}, error() {} };

/** A kubernetes-kind runner whose runs succeed at once, saying which job they ran. */
function instantRunner(): ManagedRunner & { started: string[] } {
  const started: string[] = [];
  return {
    kind: "kubernetes",
    started,
    available: () => Promise.resolve(true),
    start(_spec, _store, job) {
      started.push(job?.task ?? "");
      const logs = new LogChannel();
      logs.push({ stream: "stdout", at: Date.now(), text: "ran" });
      logs.end();
      const at = Date.now();
      return {
        id: job?.task ?? "run",
        logs,
        done: Promise.resolve({ status: "succeeded", exitCode: 0, outputs: [], startedAt: at, endedAt: at }),
        stop: () => Promise.resolve(),
      };
    },
    advertise: () => ({ cluster: "127.0.0.1:6443", cpuMillis: 4000 }),
    warmUp: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
}

const spec: RunSpec = {
  runner: "kubernetes",
  program: "registry.example/job:1",
  args: [],
  inputs: [],
  env: [],
  limits: { wallMs: 60_000, memoryMb: 64, outputBytes: 1 << 20 },
};

/** Node a hosts the bridge (and made the space); node b is another member watching. */
async function world() {
  const a = await memoryNode();
  const b = await memoryNode();
  const space = await a.node.createSpace("cluster");
  link(a, b);
  const joined = await b.node.join(await a.node.invite(space.id, { audience: b.node.did }), {
    signal: AbortSignal.timeout(10_000),
  });
  const bridge = nativeSigner(generateSeed());
  const runner = instantRunner();
  let compute: Compute | undefined;
  const hosted = hostBridge({
    name: "kubernetes",
    node: a.node,
    signer: bridge,
    log: quiet,
    jobs: (as, runners, o) => {
      compute = startCompute(a.node, {
        as,
        runners,
        slots: o.slots,
        store: new MemoryContentStore(),
        machine: (running) => ({ ...o.offer(running), version: "test" }),
        advertiseMs: 500,
        publish: () => Promise.resolve(undefined),
      });
      return { stop: () => compute!.stop() };
    },
  });
  const jobs = hosted.context.runJobs!([runner], {
    slots: 2,
    offer: () => ({ cpu: { cores: 4, load: 0 }, memoryMb: { total: 4096, free: 4096 }, gpus: 0, tags: [] }),
  });
  const stop = async (...nodes: TestNode[]) => {
    await jobs.stop();
    hosted.detach();
    for (const n of nodes) await n.node.stop();
  };
  return { a, b, space, joined, bridge, runner, compute: () => compute!, stop: () => stop(a, b) };
}

describe("a bridge running the mesh's jobs as its own DID", () => {
  it("claims, runs and reports under its own delegation; another node sees the bridge, not its host", async () => {
    const w = await world();
    try {
      for (const command of kubernetesBridge.commands) {
        await w.space.invite({ audience: w.bridge.did, command, kind: "agent", name: "cluster" });
      }
      const advert = await eventually(
        () => w.b.node.gossip(w.space.id)?.adverts().find((x) => x.node === w.bridge.did),
        10_000,
        "the bridge's advert on b",
      );
      assert.deepEqual(advert?.runners, ["kubernetes"]);
      assert.equal(advert?.runnerDetails?.kubernetes?.cpuMillis, 4000);
      assert.ok(
        !w.b.node.gossip(w.space.id)?.adverts().some((x) =>
          x.node === w.a.node.did && x.runners.includes("kubernetes")
        ),
        "the host does not advertise the cluster as its own",
      );

      const task = await w.space.createTask({ title: "on the cluster", run: spec });
      const done = (await eventually(
        () => {
          const t = w.joined.task(task.id);
          return t?.results.length ? t : undefined;
        },
        20_000,
        "the result on b",
      ))!;
      assert.deepEqual(w.runner.started, [task.id]);
      assert.equal(done.results[0].by, w.bridge.did, "the result is the bridge's");
      assert.equal(done.results[0].outcome, "success");
      const authors = (kind: string) => done.history.filter((h) => h.kind === kind).map((h) => h.author);
      assert.deepEqual(authors("claim"), [w.bridge.did]);
      assert.deepEqual(authors("start"), [w.bridge.did]);
      const byHost = done.history.filter((h) => h.author === w.a.node.did).map((h) => h.kind);
      assert.ok(byHost.every((k) => k === "create" || k === "witness"), `the host ran nothing: ${byHost}`);

      // Another member reads the bridge-held run's log as any run's: from the node its advert names as its host.
      assert.equal(advert?.host, w.a.node.did);
      const lines: string[] = [];
      for await (const line of runLog(w.b.node, undefined, w.space.id, done, false)) lines.push(line.text);
      assert.ok(lines.includes("ran"), `the run's log on b: ${JSON.stringify(lines)}`);
    } finally {
      await w.stop();
    }
  });

  it("holding only /weft/capacity/advertise, it advertises but every claim is refused", async () => {
    const w = await world();
    try {
      await w.space.invite({ audience: w.bridge.did, command: Commands.capacityAdvertise, kind: "agent" });
      await eventually(
        () => w.a.node.gossip(w.space.id)?.adverts().some((x) => x.node === w.bridge.did),
        10_000,
        "the bridge's advert",
      );
      const task = await w.space.createTask({ title: "not the bridge's to take", run: spec });
      const refused = await eventually(
        () => w.compute().scheduler.runs().find((r) => r.task === task.id && r.state === "done"),
        10_000,
        "the refused claim",
      );
      assert.match(refused?.reason ?? "", /not claimed/);
      assert.deepEqual(w.runner.started, [], "nothing ran");
      const t = w.space.task(task.id)!;
      assert.equal(t.status, "open");
      assert.ok(!t.history.some((h) => h.author === w.bridge.did), "no operation of the bridge's was applied");
    } finally {
      await w.stop();
    }
  });
});
