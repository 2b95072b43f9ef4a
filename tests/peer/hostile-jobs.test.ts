/**
 * Hostile WebAssembly jobs against a real peer process: whatever a job
 * does inside its sandbox, the daemon stays up and keeps answering
 * /healthz within a second, and the job ends with a reason that says what
 * happened. And a job whose node keeps dying under it is quarantined after
 * `max_crashes` lapsed claims: failed, with a comment saying why, and not
 * picked up again after a restart.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Pod } from "../../protocol/scheduler/pods.ts";
import { buildSamples } from "../../wasm-runners/samples/build.ts";
import { eventually } from "../helpers/nodes.ts";
import { killPeer, type PeerProcess, startPeer, stopPeer, weft } from "../helpers/peer-process.ts";

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
    for (const name of ["table-bomb", "many-files"] as const) {
      await writeFile(file(`${name}.wasm`), samples[name].component);
    }
    peer = await startPeer({ WEFT_SLOTS: "1" });
    url = (await peer.api()).url;
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

describe("a job whose node keeps dying under it", { timeout: 180_000 }, () => {
  const env = { WEFT_SLOTS: "1", WEFT_LEASE_SECONDS: "2", WEFT_MAX_CRASHES: "2" };
  let peer: PeerProcess;
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "weft-crashes-"));
    await writeFile(join(dir, "sleep.wasm"), (await buildSamples()).sleep.component);
    peer = await startPeer(env);
  });

  after(async () => {
    await stopPeer(peer);
    await rm(dir, { recursive: true, force: true });
  });

  const podOf = async (submitted: Pod) =>
    await (await peer.api()).get<Pod>(`/v1/spaces/${encodeURIComponent(submitted.space)}/pods/${submitted.task}`);
  const until = async (submitted: Pod, ok: (p: Pod) => boolean, what: string) =>
    (await eventually(
      async () => {
        const pod = await podOf(submitted);
        return ok(pod) ? pod : undefined;
      },
      60_000,
      what,
    ))!;
  const restart = async () => {
    await killPeer(peer);
    peer = await startPeer(env, peer.home);
  };

  it("is quarantined after max_crashes lapsed claims, and not picked up again after a restart", async () => {
    const submitted = JSON.parse(
      await weft(peer, "run", join(dir, "sleep.wasm"), "60000", "--timeout", "5m", "--json"),
    ) as Pod;
    for (const fence of [1, 2]) {
      await until(submitted, (p) => p.state === "running" && p.fence === fence, `attempt ${fence} running`);
      await restart(); // the node dies under the job, as if the job had killed it
    }
    const failed = await until(submitted, (p) => p.state === "failed", "quarantined");
    assert.equal(failed.fence, 2, "no third claim");
    const task = await (await peer.api()).get<{ comments: { body: string }[] }>(
      `/v1/spaces/${encodeURIComponent(submitted.space)}/tasks/${submitted.task}`,
    );
    assert.match(task.comments.at(-1)?.body ?? "", /^quarantined: 2 claims of this job ended without a result/);
    await restart();
    // Two lease periods: long enough for a restarted node to have claimed a job it wrongly thought runnable.
    await new Promise((r) => setTimeout(r, 4_000));
    const after = await podOf(submitted);
    assert.equal(after.state, "failed");
    assert.equal(after.fence, 2);
  });
});
