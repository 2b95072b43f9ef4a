/**
 * Runner.prefetch: the scheduler asks the runner to fetch what a run reads
 * as it begins the claim, so the source or image is made ready while the
 * claim is signed and made durable; the run still starts only once the
 * claim is this node's. A runner without prefetch runs as before.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { ManagedRunner } from "../../protocol/runner/plugin.ts";
import type { RunSpec } from "../../protocol/runner/runner.ts";
import { startCompute } from "../../protocol/scheduler/compute.ts";
import { LogChannel } from "../../wasm-runners/core/log-channel.ts";
import { MemoryContentStore } from "../helpers/content-store.ts";
import { eventually, memoryNode } from "../helpers/nodes.ts";

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

describe("prefetch while claiming", () => {
  it("is asked for before the claim is made and the run starts after it, with the same spec", async () => {
    const { node } = await memoryNode();
    const space = await node.createSpace("prefetch");
    const seen: Array<{ call: "prefetch" | "start"; status?: string; spec: RunSpec }> = [];
    // The space's one task, as this node sees it when the runner is called.
    const status = () => [...space.log.reducer.tasks.values()][0]?.status;
    const store = new MemoryContentStore();
    const runner: ManagedRunner = {
      kind: "nix",
      available: () => Promise.resolve(true),
      prefetch(s) {
        seen.push({ call: "prefetch", status: status(), spec: s });
      },
      start(s) {
        seen.push({ call: "start", status: status(), spec: s });
        const logs = new LogChannel();
        logs.end();
        const at = Date.now();
        return {
          id: "run",
          logs,
          done: Promise.resolve({ status: "succeeded", exitCode: 0, outputs: [], startedAt: at, endedAt: at }),
          stop: () => Promise.resolve(),
        };
      },
      advertise: () => ({}),
      warmUp: () => Promise.resolve(),
      close: () => Promise.resolve(),
    };
    const compute = startCompute(node, {
      runners: [runner],
      slots: 1,
      store,
      machine: () => offer,
      advertiseMs: 500,
      publish: () => Promise.resolve(undefined),
    });
    try {
      await compute.advertised;
      await space.createTask({ title: "a build", run: spec });
      await eventually(() => status() === "done", 10_000, "the run's result");
      assert.deepEqual(seen.map((s) => s.call), ["prefetch", "start"]);
      assert.equal(seen[0].status, "open", "prefetch comes before the claim is in the log");
      assert.notEqual(seen[1].status, "open", "the run starts once the claim is");
      assert.deepEqual(seen[0].spec, seen[1].spec);
    } finally {
      await compute.stop();
      await node.stop();
    }
  });
});
