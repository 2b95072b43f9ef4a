/**
 * Hostile WebAssembly jobs against a real peer process: whatever a job
 * does inside its sandbox, the daemon stays up and keeps answering
 * /healthz within a second, and the job ends with a reason that says what
 * happened.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Pod } from "../../protocol/scheduler/pods.ts";
import { buildSamples } from "../../wasm-runners/samples/build.ts";
import { eventually } from "../helpers/nodes.ts";
import { type PeerProcess, startPeer, stopPeer, weft } from "../helpers/peer-process.ts";

const TERMINAL = new Set(["succeeded", "failed", "cancelled"]);

/** Ask /healthz every 100 ms until stopped; resolves with the slowest answer (ms), rejects on any failure. */
function watchHealth(url: string): { stop(): Promise<number> } {
  let stopped = false;
  const watching = (async () => {
    let slowest = 0;
    while (!stopped) {
      const started = performance.now();
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(5_000) });
      await res.body?.cancel();
      if (!res.ok) throw new Error(`/healthz answered ${res.status}`);
      slowest = Math.max(slowest, performance.now() - started);
      await new Promise((r) => setTimeout(r, 100));
    }
    return slowest;
  })();
  watching.catch(() => {});
  return {
    stop() {
      stopped = true;
      return watching;
    },
  };
}

describe("hostile jobs on a real peer", { timeout: 180_000 }, () => {
  let peer: PeerProcess;
  let dir: string;
  let url: string;

  const file = (name: string) => join(dir, name);
  const submit = async (...args: string[]) => JSON.parse(await weft(peer, "run", ...args, "--json")) as Pod;
  const finished = async (submitted: Pod) =>
    (await eventually(
      async () => {
        const pod = await (await peer.api()).get<Pod>(
          `/v1/spaces/${encodeURIComponent(submitted.space)}/pods/${submitted.task}`,
        );
        return TERMINAL.has(pod.state) ? pod : undefined;
      },
      120_000,
      `task ${submitted.task} finished`,
    ))!;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "weft-hostile-"));
    const samples = await buildSamples();
    for (const name of ["hasher", "table-bomb", "many-files"] as const) {
      await writeFile(file(`${name}.wasm`), samples[name].component);
    }
    peer = await startPeer({ WEFT_SLOTS: "1" });
    url = (await peer.api()).url;
    // jco's first transpile in a process compiles jco itself (~0.6 s on the daemon's thread): pay it here, so the
    // figures below are the hostile jobs' own.
    const warm = await finished(await submit(file("hasher.wasm")));
    assert.equal(warm.state, "succeeded", warm.summary);
  });

  after(async () => {
    await stopPeer(peer);
    await rm(dir, { recursive: true, force: true });
  });

  it("a table bomb fails with a clear reason; the daemon stays up and answers /healthz within 1 s", async () => {
    const health = watchHealth(url);
    const submitted = await submit(file("table-bomb.wasm"), "--memory", "32");
    const done = await finished(submitted);
    const slowest = await health.stop();
    assert.equal(done.state, "failed", done.summary);
    assert.match(done.summary ?? "", /out-of-memory|heap limit/, done.summary);
    assert.equal(peer.child.exitCode, null, "the daemon is still running");
    assert.equal(peer.child.signalCode, null, "the daemon is still running");
    assert.ok(slowest < 1_000, `/healthz took ${slowest} ms`);
  });

  it("100,000 empty files with 200-byte names end output-limit, quickly; the daemon stays responsive", async () => {
    const health = watchHealth(url);
    const started = performance.now();
    const submitted = await submit(file("many-files.wasm"), "100000");
    const done = await finished(submitted);
    const slowest = await health.stop();
    assert.equal(done.state, "failed", done.summary);
    assert.match(done.summary ?? "", /bytes of paths/, done.summary);
    assert.ok(performance.now() - started < 60_000, `took ${performance.now() - started} ms`);
    assert.ok(slowest < 1_000, `/healthz took ${slowest} ms`);
  });
});
