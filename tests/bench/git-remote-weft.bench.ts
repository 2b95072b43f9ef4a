/**
 * What git pays to start `git-remote-weft`, which it runs afresh for every
 * fetch and push: one `list` of a repository's refs against a real peer
 * (the helper's start and one API request), a fresh process each time, as
 * git runs it. Against, in the same run, the same helper entered as a .ts
 * file (how the bin was shipped before: Node's type stripper loads on every
 * start and the compile cache is never on), and `node -e 0`. Wall time is
 * the median over alternating rounds; CPU (user + system of the child) is
 * reported too, since wall time on a shared machine depends on what else
 * runs.
 */
import { execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { percentile, report } from "./report.ts";
import { startPeer, stopPeer, weft } from "../helpers/peer-process.ts";

const BENCH = "git-remote-weft";
const BIN = new URL("../../peer/cli/git-remote-weft.js", import.meta.url).pathname;
const TS_ENTRY = new URL("../../peer/cli/git-remote-weft.ts", import.meta.url).pathname;
const ROUNDS = 15;

/** CPU seconds of the children this process has reaped (cutime + cstime of /proc/self/stat). */
function childCpu(): number {
  const f = readFileSync("/proc/self/stat", "utf8").split(") ")[1].split(" ").map(Number);
  return (f[13] + f[14]) / 100;
}

/** Wall and CPU ms of one fresh process fed `input`; rejects if it fails or says nothing. */
function timed(args: string[], env: Record<string, string>, input: string): Promise<{ wall: number; cpu: number }> {
  const cpu0 = childCpu();
  const start = performance.now();
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ["pipe", "pipe", "pipe"] });
  let out = "", err = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (err += d));
  child.stdin.end(input);
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => {
      if (code !== 0 || (input && !out.includes("refs/heads/main"))) {
        reject(new Error(`${args.join(" ")} exited ${code}: ${err || out}`));
      } else resolve({ wall: performance.now() - start, cpu: (childCpu() - cpu0) * 1000 });
    });
  });
}

const peer = await startPeer();
try {
  await weft(peer, "repo", "create", "demo");
  const space = (JSON.parse(await weft(peer, "space", "list", "--json")) as { spaces: { id: string }[] }).spaces[0].id;
  // A ref to list: the space's repository gets a main branch through the helper itself.
  const work = await mkdtemp(join(tmpdir(), "weft-bench-helper-"));
  await mkdir(join(work, "bin"));
  await symlink(BIN, join(work, "bin", "git-remote-weft"));
  const gitEnv = {
    ...process.env,
    PATH: `${join(work, "bin")}:${process.env.PATH}`,
    WEFT_HOME: peer.home,
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_AUTHOR_NAME: "bench",
    GIT_AUTHOR_EMAIL: "bench@weft.invalid",
    GIT_COMMITTER_NAME: "bench",
    GIT_COMMITTER_EMAIL: "bench@weft.invalid",
  };
  const git = (cwd: string, ...args: string[]) => execFileSync("git", args, { cwd, env: gitEnv, stdio: "pipe" });
  git(work, "init", "-q", "-b", "main", "repo");
  git(join(work, "repo"), "commit", "-q", "--allow-empty", "-m", "one");
  git(join(work, "repo"), "push", "-q", `weft::${space}/demo`, "main");

  const env = { WEFT_HOME: peer.home, GIT_DIR: join(work, "repo", ".git") };
  const url = `${space}/demo`;
  const input = "capabilities\nlist\n\n";
  const runs: Record<string, [string[], Record<string, string>, string]> = {
    "node -e 0": [["-e", "0"], {}, ""],
    "ts entry": [[TS_ENTRY, "origin", url], env, input],
    bin: [[BIN, "origin", url], env, input],
  };
  const wall: Record<string, number[]> = Object.fromEntries(Object.keys(runs).map((k) => [k, []]));
  const cpu: Record<string, number[]> = Object.fromEntries(Object.keys(runs).map((k) => [k, []]));
  for (const [args, e, i] of Object.values(runs)) await timed(args, e, i); // warm the compile cache and the disk
  for (let r = 0; r < ROUNDS; r++) {
    const order = Object.entries(runs);
    if (r % 2 === 1) order.reverse();
    for (const [name, [args, e, i]] of order) {
      const t = await timed(args, e, i);
      wall[name].push(t.wall);
      cpu[name].push(t.cpu);
    }
  }
  const median = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50);
  report({
    bench: BENCH,
    metric: "list ms",
    value: median(wall.bin),
    unit: "ms",
    baseline: median(wall["ts entry"]),
    note: "git-remote-weft answering one list (start + one API request); baseline the same helper as a .ts entry",
  });
  report({
    bench: BENCH,
    metric: "list cpu ms",
    value: median(cpu.bin),
    unit: "ms",
    baseline: median(cpu["ts entry"]),
    note: "CPU of the same; baseline the .ts entry",
  });
  report({
    bench: BENCH,
    metric: "list ms vs node",
    value: median(wall.bin),
    unit: "ms",
    baseline: median(wall["node -e 0"]),
    note: "baseline: node -e 0",
  });
  await rm(work, { recursive: true, force: true });
} finally {
  await stopPeer(peer);
}
