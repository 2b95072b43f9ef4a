/**
 * Jobs placed across three real peer processes with different capacity,
 * submitted with `weft run` on a laptop that runs nothing itself: they land
 * only on eligible nodes; a gpu job waits until a gpu node appears and a
 * retried submission runs once; eviction really stops a running job; and
 * when the node running a job is killed (SIGKILL), its lease lapses and the
 * job completes elsewhere with exactly one accepted result. Logs and the
 * run's signed manifest are read from a node that did not run it.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Pod } from "../../protocol/scheduler/pods.ts";
import type { TaskView } from "../../protocol/tasks/query.ts";
import { buildSamples } from "../../wasm-runners/samples/build.ts";
import { eventually } from "../helpers/nodes.ts";
import { joinPeer, killPeer, type PeerProcess, startPeer, stopPeer, weft } from "../helpers/peer-process.ts";

/** Short leases and frequent adverts, so a dead node is noticed within seconds. */
const FAST = { WEFT_LEASE_SECONDS: "3", WEFT_ADVERTISE_SECONDS: "2" };
const TERMINAL = new Set(["succeeded", "failed", "cancelled"]);

describe("scheduling across three peer processes", { timeout: 300_000 }, () => {
  let laptop: PeerProcess;
  let server: PeerProcess;
  let gpuBox: PeerProcess | undefined;
  let space: string;
  let dir: string;
  const file = (name: string) => join(dir, name);

  const pod = async (p: PeerProcess, task: string) =>
    await (await p.api()).get<Pod>(`/v1/spaces/${encodeURIComponent(space)}/pods/${task}`);
  const run = async (p: PeerProcess, ...args: string[]) => JSON.parse(await weft(p, "run", ...args, "--json")) as Pod;
  const until = async (p: PeerProcess, task: string, ok: (x: Pod) => boolean, what: string, ms = 60_000) =>
    (await eventually(
      async () => {
        const x = await pod(p, task);
        return ok(x) ? x : undefined;
      },
      ms,
      what,
    ))!;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "weft-sched-"));
    const samples = await buildSamples();
    for (const name of ["hasher", "sleep"] as const) await writeFile(file(`${name}.wasm`), samples[name].component);
    await writeFile(file("input.txt"), "placed by the mesh\n");
    [laptop, server] = await Promise.all([
      startPeer({ ...FAST, WEFT_SLOTS: "0" }),
      startPeer({ ...FAST, WEFT_SLOTS: "2", WEFT_TAGS: "region=us,arch=x86_64" }),
    ]);
    space = await joinPeer(laptop, server);
    // Both see the server's capacity before anything is submitted.
    await eventually(
      async () => {
        const r = await (await laptop.api()).get<{ nodes: Array<{ node: string }> }>("/v1/capacity");
        return r.nodes.length >= 2;
      },
      30_000,
      "capacity adverts",
    );
  });

  after(async () => {
    await Promise.all([laptop, server, gpuBox].filter((p) => p).map((p) => stopPeer(p!)));
    await rm(dir, { recursive: true, force: true });
  });

  it("a job runs only on an eligible node; its log and signed manifest are read from another", async () => {
    const submitted = await run(
      laptop,
      file("hasher.wasm"),
      "input.txt",
      "--input",
      `input.txt=${file("input.txt")}`,
      "--tag",
      "region=us",
    );
    const done = await until(laptop, submitted.task, (x) => TERMINAL.has(x.state), "hasher finished");
    assert.equal(done.state, "succeeded", done.summary);
    assert.equal(done.node, await weft(server, "id"), "only the server has region=us and free slots");
    const sum = createHash("sha256").update("placed by the mesh\n").digest("hex");
    const log = await weft(laptop, "logs", submitted.task, "--space", space);
    assert.ok(log.includes(`${sum}  input.txt`), log);
    assert.ok(done.manifest, "the result records the run's manifest");
    const report = JSON.parse(await weft(laptop, "artifact", "verify", done.manifest!, "--space", space, "--json"));
    assert.equal(report.ok, true, JSON.stringify(report));
    assert.deepEqual(report.outputs.map((o: { path: string; ok: boolean }) => [o.path, o.ok]), [
      ["sha256sums", true],
      ["weft:run-log", true],
    ]);
  });

  it("a gpu job waits until a gpu node appears; a retried submission runs once", async () => {
    const args = [file("hasher.wasm"), "input.txt", "--input", `input.txt=${file("input.txt")}`, "--gpu", "1"];
    args.push("--title", "needs a gpu");
    const first = await run(laptop, ...args, "--key", "train-1");
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal((await pod(laptop, first.task)).state, "queued", "no node has a gpu yet");
    gpuBox = await startPeer({ ...FAST, WEFT_SLOTS: "1", WEFT_GPUS: "1", WEFT_TAGS: "gpu" });
    await joinPeer(laptop, gpuBox, space);
    const done = await until(laptop, first.task, (x) => TERMINAL.has(x.state), "gpu job finished");
    assert.equal(done.state, "succeeded", done.summary);
    assert.equal(done.node, await weft(gpuBox, "id"));
    const retried = await run(laptop, ...args, "--key", "train-1");
    assert.equal(retried.task, first.task, "the same idempotency key is the same job");
    const { pods } = await (await laptop.api()).get<{ pods: Pod[] }>(`/v1/spaces/${encodeURIComponent(space)}/pods`);
    assert.equal(pods.filter((p) => p.title === first.title).length, 1);
  });

  it("eviction stops a running job on the node running it", async () => {
    const submitted = await run(laptop, file("sleep.wasm"), "60000", "--tag", "region=us", "--timeout", "5m");
    await until(laptop, submitted.task, (x) => x.state === "running", "sleep running");
    await weft(laptop, "evict", submitted.task, "--space", space);
    const onServer = await until(
      server,
      submitted.task,
      (x) => x.local?.status !== undefined,
      "the job stopped on the server",
      20_000,
    );
    assert.equal(onServer.state, "cancelled");
    assert.equal(onServer.local!.status, "stopped");
    assert.match(onServer.local!.reason!, /evicted/);
    assert.equal(onServer.local!.accepted, false);
  });

  it("killing the node running a job re-places it; exactly one result is accepted", async () => {
    const dids = { [await weft(server, "id")]: server, [await weft(gpuBox!, "id")]: gpuBox! };
    const submitted = await run(laptop, file("sleep.wasm"), "8000", "--timeout", "5m");
    const running = await until(laptop, submitted.task, (x) => x.state === "running", "sleep running");
    const victim = dids[running.node!];
    assert.ok(victim, `runs on the server or the gpu box, not ${running.node}`);
    await killPeer(victim);
    const done = await until(laptop, submitted.task, (x) => TERMINAL.has(x.state), "re-placed job finished", 90_000);
    assert.equal(done.state, "succeeded", done.summary);
    assert.notEqual(done.node, running.node, "it finished on the surviving node");
    assert.ok(done.fence > running.fence, "with a newer lease");
    const task = await (await laptop.api()).get<TaskView>(
      `/v1/spaces/${encodeURIComponent(space)}/tasks/${submitted.task}`,
    );
    assert.equal(task.results.length, 1, "exactly one accepted result");
    assert.equal(task.results[0].by, done.node);
  });
});
