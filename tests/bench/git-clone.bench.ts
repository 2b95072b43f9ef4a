/**
 * Cloning a repository of 5,000 commits and about 50 MB between two peers
 * over `/weft/git/1` (the serving peer in a process of its own, the pack
 * from its `git upload-pack` through libp2p — noise, yamux — into the
 * asking peer's own fetch client and `git index-pack --strict`, with fsck of every object, as shipped;
 * each peer starts git through its process spawner, as the daemon does),
 * against `git clone --bare` from a `git daemon` on loopback serving the
 * same repository, in the same run. The repository is generated once with
 * `git fast-import` (each commit adds a file of random bytes, so the pack
 * does not compress). Weft and git daemon alternate, each going first half
 * the time; each clone goes into a fresh empty repository. Throughput is
 * the source's pack size over the clone's wall time. Target: >= 0.8x git daemon.
 * A second baseline, git daemon with `transfer.fsckObjects`, separates the
 * cost of checking every object from the cost of the transport; a third,
 * as many bytes over a bare libp2p stream between the same two peers, is
 * the ceiling the transport can reach on this stack. Wall time
 * on a shared machine depends on what else runs, so each clone's CPU (both
 * peers and every git process) is reported too. COMMITS and RUNS in the
 * environment override the 5,000 commits and 5 runs.
 */
import { spawn, spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { libp2pNode } from "../helpers/nodes.ts";
import { addCommits, git, initBare } from "../helpers/git-repos.ts";
import { multiaddr } from "@multiformats/multiaddr";
import { peerIdFromDid } from "#protocol/node";
import { fetchGit } from "../../peer/repo/git-transport.ts";
import { percentile, report } from "./report.ts";
import { tuneHeapForBulkBytes } from "../../peer/daemon/heap-flags.ts";
import { useSharedSpawner } from "../../peer/process/spawner.ts";

// This process is the asking peer: it runs as the daemon does (peer/run-daemon.ts, peer/daemon/daemon.ts).
tuneHeapForBulkBytes();
const spawner = useSharedSpawner();
await spawner.warm();

const BENCH = "git-clone";
const COMMITS = Number(process.env.COMMITS ?? 5000);
const BYTES_PER_COMMIT = 10 * 1024;
const RUNS = Number(process.env.RUNS ?? 5);

const dir = await mkdtemp(join(tmpdir(), "weft-bench-git-"));
const source = initBare(join(dir, "repo.git"));
const head = await addCommits(source, COMMITS, BYTES_PER_COMMIT);
git(source, "repack", "-a", "-d", "--quiet");
const packBytes = Number(/size-pack: (\d+)/.exec(git(source, "count-objects", "-v"))![1]) * 1024;

/** A free loopback port (closed again for git daemon to take). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

const port = await freePort();
const daemon = spawn("git", [
  "daemon",
  "--reuseaddr",
  "--export-all",
  `--base-path=${dir}`,
  "--listen=127.0.0.1",
  `--port=${port}`,
  dir,
], { stdio: "ignore" });
const url = `git://127.0.0.1:${port}/repo.git`;
for (let i = 0; spawnSync("git", ["ls-remote", url], { stdio: "ignore" }).status !== 0; i++) {
  if (i > 100) throw new Error("git daemon did not start");
  await new Promise((r) => setTimeout(r, 50));
}

const client = await libp2pNode();
const peer = spawn(process.execPath, [
  fileURLToPath(new URL("./git-clone-peer.ts", import.meta.url)),
  source,
  client.node.did,
], { stdio: ["pipe", "pipe", "inherit"], env: { ...process.env, SOURCE_BYTES: String(packBytes) } });
const opening = JSON.parse(
  await new Promise<string>((resolve) => createInterface({ input: peer.stdout! }).once("line", resolve)),
) as { did: string; addr: string; invite: string; space: string; spawner: number };
await client.node.libp2p!.dial(multiaddr(opening.addr));
await client.node.join(opening.invite, { signal: AbortSignal.timeout(30_000) });

/** Seconds to clone the whole repository into a fresh bare repository, one way or the other. */
const clones = {
  async weft(into: string): Promise<void> {
    const { fetched } = await fetchGit(client.node, {
      peer: opening.did,
      space: opening.space,
      repo: "repo",
      wants: [head],
      into: initBare(into),
    });
    if (fetched.length !== 1) throw new Error("nothing fetched");
  },
  /** Not a clone: the pack's size in zeros over a bare libp2p stream from the same peer, the ceiling for the rest. */
  async stream(): Promise<void> {
    const stream = await client.node.libp2p!.dialProtocol(peerIdFromDid(opening.did), "/weft-bench/source/1");
    let got = 0;
    stream.addEventListener("message", (e) => (got += e.data.byteLength));
    // "end": the peer sent all and closed its side (ours never wrote).
    await new Promise((resolve) => stream.addEventListener("end", resolve));
    await stream.close();
    if (got !== packBytes) throw new Error(`the stream carried ${got} of ${packBytes} bytes`);
  },
  async daemon(into: string): Promise<void> {
    await run("git", ["clone", "--bare", "--quiet", url, into]);
  },
  async daemonFsck(into: string): Promise<void> {
    await run("git", ["-c", "transfer.fsckObjects=true", "clone", "--bare", "--quiet", url, into]);
  },
};

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      stdio: "ignore",
      env: { ...process.env, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null" },
    });
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args[0]} exited ${code}`))));
  });
}

/**
 * CPU seconds so far of one process (`self` or a pid) and of its spawner's helper (`helper`), if any: their own
 * (utime, stime) and that of the commands either reaped (git started directly, or through the helper).
 */
function cpuOf(pid: string, helper?: number): { own: number; children: number } {
  // utime, stime, cutime, cstime: fields 14-17 of stat, 11-14 after the name.
  const stat = (p: string) => readFileSync(`/proc/${p}/stat`, "utf8").split(") ")[1].split(" ").map(Number);
  const f = stat(pid), h = helper === undefined ? undefined : stat(String(helper));
  return {
    own: (f[11] + f[12] + (h ? h[11] + h[12] : 0)) / 100,
    children: (f[13] + f[14] + (h ? h[13] + h[14] : 0)) / 100,
  };
}

/**
 * CPU seconds so far of a process's main thread and of its other threads (for a peer: V8's helper
 * threads, which mark and sweep the heap concurrently, and libuv's pool), from /proc/<pid>/task.
 */
function threadCpuOf(pid: string): { main: number; helpers: number } {
  let main = 0, helpers = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      const f = readFileSync(`/proc/${pid}/task/${task}/stat`, "utf8").split(") ")[1].split(" ").map(Number);
      if (task === pid) main += (f[11] + f[12]) / 100;
      else helpers += (f[11] + f[12]) / 100;
    } catch {
      // a thread that ended between the listing and the read
    }
  }
  return { main, helpers };
}

/** The two peers' main threads and helper threads together, CPU seconds so far. */
function peerThreads(): { main: number; helpers: number } {
  const a = threadCpuOf(String(process.pid)), b = threadCpuOf(String(peer.pid));
  return { main: a.main + b.main, helpers: a.helpers + b.helpers };
}

/**
 * CPU seconds used so far by this process, the serving process (the Weft peer or git daemon) and
 * the children each has reaped (index-pack, or git clone; upload-pack, pack-objects): what a
 * clone costs whatever else the machine is doing, split by where it is spent.
 */
function cpuSeconds(server: number): { total: number; parts: Record<Part, number> } {
  const client = cpuOf("self", spawner.pid);
  const serving = server === peer.pid ? cpuOf(String(server), opening.spawner) : cpuOf(String(server));
  const parts = {
    clientNode: client.own,
    clientGit: client.children,
    servingNode: serving.own,
    servingGit: serving.children,
  };
  return { total: Object.values(parts).reduce((a, b) => a + b, 0), parts };
}
type Part = "clientNode" | "clientGit" | "servingNode" | "servingGit";
const PART_NOTES: Record<Part, string> = {
  clientNode: "the asking peer's own process and its spawner (libp2p, its fetch client, the pipe into index-pack)",
  clientGit: "index-pack with fsck, on the asking side (git clone and index-pack for git daemon)",
  servingNode: "the serving peer's own process and its spawner (libp2p, the pipe from upload-pack)",
  servingGit: "upload-pack and pack-objects on the serving side",
};

const seconds: Record<keyof typeof clones, number[]> = { weft: [], stream: [], daemon: [], daemonFsck: [] };
const cpu: Record<keyof typeof clones, number[]> = { weft: [], stream: [], daemon: [], daemonFsck: [] };
/** The weft clone's CPU in the two peers' main threads and in their helper threads. */
const weftThreads = { main: [] as number[], helpers: [] as number[] };
/** The weft clone's and the git daemon clone with fsck's CPU, by part. */
const weftParts: Record<Part, number[]> = { clientNode: [], clientGit: [], servingNode: [], servingGit: [] };
const fsckParts: Record<Part, number[]> = { clientNode: [], clientGit: [], servingNode: [], servingGit: [] };
try {
  for (let r = 0; r < RUNS; r++) {
    const order = Object.keys(clones) as (keyof typeof clones)[];
    if (r % 2 === 1) order.reverse();
    for (const way of order) {
      const into = join(dir, `clone-${way}-${r}.git`);
      const server = way === "weft" || way === "stream" ? peer.pid! : daemon.pid!;
      const cpuBefore = cpuSeconds(server);
      const threadsBefore = peerThreads();
      const start = performance.now();
      await clones[way](into);
      seconds[way].push((performance.now() - start) / 1000);
      const cpuAfter = cpuSeconds(server);
      if (way === "weft") {
        const threadsAfter = peerThreads();
        weftThreads.main.push(threadsAfter.main - threadsBefore.main);
        weftThreads.helpers.push(threadsAfter.helpers - threadsBefore.helpers);
      }
      cpu[way].push(cpuAfter.total - cpuBefore.total);
      const parts = way === "weft" ? weftParts : way === "daemonFsck" ? fsckParts : undefined;
      for (const k of Object.keys(PART_NOTES) as Part[]) parts?.[k].push(cpuAfter.parts[k] - cpuBefore.parts[k]);
      if (way !== "stream" && git(into, "rev-list", "--count", head) !== String(COMMITS)) {
        throw new Error(`${way} clone is incomplete`);
      }
      await rm(into, { recursive: true, force: true });
    }
  }
  const median = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50);
  const mbps = (way: keyof typeof clones) => packBytes / 1024 / 1024 / median(seconds[way]);
  report({
    bench: BENCH,
    metric: "repository-pack",
    value: packBytes / 1024 / 1024,
    unit: "MiB",
    note: `${COMMITS} commits`,
  });
  report({
    bench: BENCH,
    metric: "clone-throughput",
    value: mbps("weft"),
    unit: "MiB/s",
    baseline: mbps("daemon"),
    note: "weft over /weft/git/1 (fsck on) vs git clone from git daemon on loopback; target >= 0.8",
  });
  report({
    bench: BENCH,
    metric: "clone-throughput-vs-fsck",
    value: mbps("weft"),
    unit: "MiB/s",
    baseline: mbps("daemonFsck"),
    note: "the same, against git daemon with transfer.fsckObjects (the same object checks)",
  });
  report({
    bench: BENCH,
    metric: "clone-throughput-vs-stream",
    value: mbps("weft"),
    unit: "MiB/s",
    baseline: mbps("stream"),
    note: "the same, against as many bytes over a bare libp2p stream between the same peers (its ceiling)",
  });
  report({
    bench: BENCH,
    metric: "stream-cpu-seconds",
    value: median(cpu.stream),
    unit: "s",
    baseline: median(cpu.daemon),
    note: "CPU of both peers moving the pack's size over a bare libp2p stream, against the whole git daemon clone",
  });
  report({
    bench: BENCH,
    metric: "clone-cpu-seconds",
    value: median(cpu.weft),
    unit: "s",
    baseline: median(cpu.daemon),
    note: "CPU of both peers and every git process per clone, against git daemon and git clone",
  });
  report({
    bench: BENCH,
    metric: "clone-cpu-seconds-vs-fsck",
    value: median(cpu.weft),
    unit: "s",
    baseline: median(cpu.daemonFsck),
    note: "the same, against git daemon with transfer.fsckObjects",
  });
  for (const k of Object.keys(PART_NOTES) as Part[]) {
    report({
      bench: BENCH,
      metric: `clone-cpu-seconds-${k}`,
      value: median(weftParts[k]),
      unit: "s",
      baseline: median(fsckParts[k]),
      note: `${PART_NOTES[k]}; baseline: the same part of the git daemon clone with fsck`,
    });
  }
  report({
    bench: BENCH,
    metric: "clone-cpu-seconds-peer-helper-threads",
    value: median(weftThreads.helpers),
    unit: "s",
    baseline: median(weftThreads.main),
    note:
      "the two peers' helper threads (V8's concurrent GC, libuv's pool) per weft clone; baseline: their main threads",
  });
  report({
    bench: BENCH,
    metric: "clone-seconds",
    value: median(seconds.weft),
    unit: "s",
    baseline: median(seconds.daemon),
  });
} finally {
  peer.stdin!.end();
  daemon.kill();
  await client.node.stop();
  await rm(dir, { recursive: true, force: true });
}
