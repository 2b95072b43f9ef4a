/**
 * Container job start latency, for the bubblewrap and podman backends,
 * against the raw tool started directly in the same run on the same
 * unpacked image (`bwrap … echo ready`, `podman run --rootfs … echo
 * ready`), spawn to first stdout byte: from a submit on a real peer (a
 * signed create through its API, placement, claim, the runner) to the
 * job's first stdout line in the run's log; and from `start(spec)` on the
 * runner alone. Targets: bubblewrap p50 < 100 ms and ≤ 1.5× raw. Needs
 * .ci/setup's base image; cgroups under /sys/fs/cgroup/*\/weft-bench-<pid>.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm, rmdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import type { RunSpec } from "../../protocol/runner/runner.ts";
import { containerPlugin } from "../../bridges/containers/plugin.ts";
import type { ContainerRunner } from "../../bridges/containers/runner.ts";
import { podmanEnv } from "../../bridges/containers/podman-backend.ts";
import { mustRun } from "../../bridges/containers/tool.ts";
import { MemoryContentStore } from "../helpers/content-store.ts";
import { baseImage } from "../containers/base-image.ts";
import { testDaemon } from "../helpers/daemon.ts";
import { percentile, report } from "./report.ts";
import { reportPhases, SubmitTimer } from "./submit-phases.ts";

const BENCH = "containers";
const RUNS = { bwrap: Number(process.env.RUNS ?? 30), podman: Number(process.env.PODMAN_RUNS ?? 10) };
/** Which backends to measure (`BACKENDS=bwrap` skips podman's minutes). */
const BACKENDS = (process.env.BACKENDS ?? "bwrap,podman").split(",");
const CGROUP_PARENT = `weft-bench-${process.pid}`;
const quiet = { debug() {}, info() {}, warn() {} };

const store = new MemoryContentStore();
const base = await baseImage();
await store.put(base.bytes);
const state = await mkdtemp(join(tmpdir(), "weft-bench-containers-"));

const spec: RunSpec = {
  runner: "container",
  program: base.digest,
  args: ["echo", "ready"],
  inputs: [],
  env: [],
  limits: { wallMs: 30_000, memoryMb: 128, outputBytes: 1 << 20 },
};

/** Spawn a command and time it to its first stdout byte (then let it finish). */
function rawFirstByte(command: string, args: string[], env?: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let first: number | undefined;
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "inherit"], env: env ?? process.env });
    child.stdout.once("data", () => first = performance.now() - t0);
    child.on("error", reject);
    child.on(
      "close",
      (code) => code === 0 && first !== undefined ? resolve(first) : reject(new Error(`${command} exit ${code}`)),
    );
  });
}

async function runnerFirstLine(runner: ContainerRunner): Promise<number> {
  const t0 = performance.now();
  const handle = runner.start(spec, store);
  let first: number | undefined;
  for await (const line of handle.logs) {
    if (first === undefined && line.stream === "stdout") first = performance.now() - t0;
  }
  const result = await handle.done;
  if (result.status !== "succeeded" || first === undefined) throw new Error(`job ${result.status}: ${result.reason}`);
  return first;
}

/** A peer running only `backend` containers, with the image in its store: submits time to the first stdout line. */
async function submitting(
  backend: "bwrap" | "podman",
): Promise<{ submit(): Promise<number>; timer: SubmitTimer; stop(): Promise<void> }> {
  const toml = `[runners.container]\nbackend = "${backend}"\ncgroup_parent = "${CGROUP_PARENT}"\n` +
    `[runners.nix]\nenabled = false\n`;
  const peer = await testDaemon({ WEFT_SLOTS: "1" }, toml);
  await peer.daemon.artifacts.contentStore().put(base.bytes);
  const { spaces } = await peer.client.get<{ spaces: Array<{ id: string }> }>("/v1/spaces");
  const timer = new SubmitTimer(peer, spaces[0].id);
  return {
    submit: () => timer.submit(spec, (line) => line.stream === "stdout", `${backend} bench`),
    timer,
    stop: () => peer.stop(),
  };
}

async function measure(
  backend: "bwrap" | "podman",
  raw: (runner: ContainerRunner) => Promise<() => Promise<number>>,
): Promise<void> {
  const made = await containerPlugin.create(
    containerPlugin.parseConfig({ backend, cgroup_parent: CGROUP_PARENT }),
    { stateDir: join(state, backend), log: quiet },
  );
  if ("unavailable" in made) {
    console.error(`${backend}: ${made.unavailable}`);
    return;
  }
  const runner = made as ContainerRunner;
  await runnerFirstLine(runner); // unpacks or loads the image: not measured
  const direct = await raw(runner);
  await direct();
  const ours: number[] = [];
  const theirs: number[] = [];
  // Interleaved, so both see the same machine load.
  for (let i = 0; i < RUNS[backend]; i++) {
    theirs.push(await direct());
    ours.push(await runnerFirstLine(runner));
  }
  await runner.close();
  // From a submit on a peer, against the same raw command, interleaved again.
  const peer = await submitting(backend);
  const submitted: number[] = [];
  const rawBeside: number[] = [];
  try {
    await peer.submit(); // unpacks or loads the image into the peer's runner: not measured
    peer.timer.reset();
    for (let i = 0; i < RUNS[backend]; i++) {
      rawBeside.push(await direct());
      submitted.push(await peer.submit());
    }
  } finally {
    await peer.stop();
  }
  submitted.sort((a, b) => a - b);
  rawBeside.sort((a, b) => a - b);
  reportPhases(BENCH, `${backend} `, peer.timer, percentile(rawBeside, 50), `raw ${backend}`);
  for (const p of [50, 90]) {
    report({
      bench: BENCH,
      metric: `${backend} submit on a peer to first log line p${p}`,
      value: percentile(submitted, p),
      unit: "ms",
      baseline: percentile(rawBeside, p),
      note: `a signed create through the peer's API, placement, claim and the ${backend} runner; baseline: raw ` +
        `${backend} on the same image, spawn to first stdout byte` +
        (backend === "bwrap" ? "; target p50 < 100 ms and ≤ 1.5× raw" : ""),
    });
  }
  ours.sort((a, b) => a - b);
  theirs.sort((a, b) => a - b);
  for (const p of [50, 99]) {
    report({
      bench: BENCH,
      metric: `${backend} start to first log line p${p}`,
      value: percentile(ours, p),
      unit: "ms",
      baseline: percentile(theirs, p),
      note: `baseline: raw ${backend} on the same image, spawn to first stdout byte` +
        (backend === "bwrap" ? "; target p50 < 100 ms and ≤ 1.5× raw" : ""),
    });
  }
}

try {
  if (BACKENDS.includes("bwrap")) {
    await measure("bwrap", () => {
      const rootfs = join(state, "bwrap", "images", base.digest.slice(7), "rootfs");
      const args = ["--unshare-all", "--die-with-parent", "--ro-bind", rootfs, "/", "--proc", "/proc", "--dev", "/dev"];
      return Promise.resolve(() => rawFirstByte("bwrap", [...args, "echo", "ready"]));
    });
  }
  if (BACKENDS.includes("podman")) {
    await measure("podman", async () => {
      const env = await podmanEnv(join(state, "podman", "podman"));
      const name = `localhost/weft/image:${base.digest.slice(7)}`;
      const rootfs = (await mustRun("mount", "container/podman", "podman", ["image", "mount", name], { env })).trim();
      const args = ["run", "--rm", "--runtime", "runc", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1000:1000"];
      return () => rawFirstByte("podman", [...args, "--network", "none", "--rootfs", rootfs, "echo", "ready"], env);
    });
  }
} finally {
  for (const c of ["memory", "cpu", "pids"]) await rmdir(`/sys/fs/cgroup/${c}/${CGROUP_PARENT}`).catch(() => {});
  await rm(state, { recursive: true, force: true });
}
