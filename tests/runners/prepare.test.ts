/**
 * Runner.prepare: the scheduler has the runner make a run ready (source,
 * limits, its first process held) as it begins the claim, so that work
 * overlaps the claim being signed and made durable; the prepared run is
 * let go (start()) only once the claim is this node's, and cancelled —
 * never started — when the claim is refused. A runner without prepare
 * starts as before. A task created on the node that claims it is claimed
 * while its creation is written, and both are made durable by one flush.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { ManagedRunner } from "../../protocol/runner/plugin.ts";
import type { RunHandle, RunSpec } from "../../protocol/runner/runner.ts";
import type { Space } from "../../protocol/space/space.ts";
import { startCompute } from "../../protocol/scheduler/compute.ts";
import { LogChannel } from "../../wasm-runners/core/log-channel.ts";
import { MemoryContentStore } from "../helpers/content-store.ts";
import { eventually, memoryNode, type TestNode } from "../helpers/nodes.ts";

const spec: RunSpec = {
  runner: "nix",
  program: "default.nix",
  args: [],
  inputs: [],
  env: [],
  limits: { wallMs: 60_000, memoryMb: 64, outputBytes: 1 << 20 },
};

const offer = {
  cpu: { cores: 2, load: 0 },
  memoryMb: { total: 2048, free: 1024 },
  gpus: 0,
  runners: [],
  tags: [],
  version: "test",
  running: 0,
  slots: 0,
  ttl: 30,
};

function finished(): RunHandle {
  const logs = new LogChannel();
  logs.end();
  const at = Date.now();
  return {
    id: "run",
    logs,
    done: Promise.resolve({ status: "succeeded", exitCode: 0, outputs: [], startedAt: at, endedAt: at }),
    stop: () => Promise.resolve(),
  };
}

type Call = { call: "prepare" | "prepared start" | "cancel" | "start"; status?: string; spec?: RunSpec; why?: string };

/**
 * A runner that records each call with the task's status as this node saw it then; `preparing` runs in prepare,
 * `starting` as the prepared run is let go.
 */
function recording(
  space: () => Space,
  preparing?: () => void,
  starting?: () => void,
): { runner: ManagedRunner; calls: Call[] } {
  const calls: Call[] = [];
  const status = () => [...space().log.reducer.tasks.values()][0]?.status;
  const runner: ManagedRunner = {
    kind: "nix",
    available: () => Promise.resolve(true),
    prepare(s) {
      calls.push({ call: "prepare", status: status(), spec: s });
      preparing?.();
      return {
        start() {
          calls.push({ call: "prepared start", status: status() });
          starting?.();
          return finished();
        },
        cancel(why) {
          calls.push({ call: "cancel", status: status(), why });
          return Promise.resolve();
        },
      };
    },
    start(s) {
      calls.push({ call: "start", status: status(), spec: s });
      return finished();
    },
    advertise: () => ({}),
    warmUp: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
  return { runner, calls };
}

async function withCompute(
  make: (space: () => Space) => { runner: ManagedRunner; calls: Call[] },
  body: (space: Space, calls: Call[], node: TestNode["node"]) => Promise<void>,
): Promise<void> {
  const { node } = await memoryNode();
  const space = await node.createSpace("prepare");
  const { runner, calls } = make(() => space);
  const compute = startCompute(node, {
    runners: [runner],
    slots: 1,
    store: new MemoryContentStore(),
    machine: () => offer,
    advertiseMs: 500,
    publish: () => Promise.resolve(undefined),
  });
  try {
    await compute.advertised;
    await body(space, calls, node);
  } finally {
    await compute.stop();
    await node.stop();
  }
}

describe("a run prepared while its claim is made", () => {
  it("is prepared before the claim is in the log and let go once the claim is, never started afresh", async () => {
    await withCompute((space) => recording(space), async (space, calls) => {
      await space.createTask({ title: "a build", run: spec });
      const status = () => [...space.log.reducer.tasks.values()][0]?.status;
      await eventually(() => status() === "done", 10_000, "the run's result");
      assert.deepEqual(calls.map((c) => c.call), ["prepare", "prepared start"]);
      assert.equal(calls[0].status, "open", "prepared before the claim is in the log");
      assert.notEqual(calls[1].status, "open", "let go once the claim is");
      assert.deepEqual(calls[0].spec, spec);
    });
  });

  it("is cancelled, never let go, when the claim is refused", async () => {
    let space!: () => Space;
    // The task is cancelled while this node's claim is on its way: the claim that follows is refused.
    const cancelIt = () => {
      const task = [...space().log.reducer.tasks.values()][0];
      void space().act("cancel", { task: task.id, body: "changed my mind" });
    };
    await withCompute((s) => recording(space = s, cancelIt), async (sp, calls) => {
      await sp.createTask({ title: "a build", run: spec });
      await eventually(() => calls.some((c) => c.call === "cancel"), 10_000, "the prepared run cancelled");
      assert.deepEqual(calls.map((c) => c.call), ["prepare", "cancel"]);
      assert.match(calls[1].why ?? "", /^not claimed: /);
      assert.equal([...sp.log.reducer.tasks.values()][0]?.status, "cancelled");
    });
  });

  it("is claimed while the task's creation is written, both made durable by one flush", async () => {
    let flushes = 0;
    let flushesAtStart = -1;
    const counting = (space: () => Space) => recording(space, undefined, () => flushesAtStart = flushes);
    await withCompute(counting, async (space, calls, node) => {
      const flush = node.repo.flush.bind(node.repo);
      node.repo.flush = (ids) => {
        flushes++;
        return flush(ids);
      };
      await space.createTask({ title: "a build", run: spec });
      await eventually(() => calls.some((c) => c.call === "prepared start"), 10_000, "the run let go");
      assert.equal(flushesAtStart, 1, "the create and the claim were made durable by one flush");
      assert.equal(calls.find((c) => c.call === "prepared start")?.status, "claimed");
    });
  });
});
