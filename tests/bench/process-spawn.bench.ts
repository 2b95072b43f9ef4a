/**
 * What starting a command costs a peer that holds a large heap: `git
 * cat-file` (which waits for its stdin) started directly with
 * child_process.spawn, which forks this process, against through the
 * process spawner (peer/process/spawner.ts), which has its small helper
 * fork. Measured with nothing held, then with LIVE_MIB (default 1024) of
 * live buffers, each page written: a peer with many documents, or one just
 * done moving a pack. Per size it prints the time the event loop is held by
 * the call that starts git (the fork, for a direct spawn) and the time from
 * that call until git has answered and exited, medians of RUNS (default 20),
 * with the direct spawn as baseline; the event loop holds nothing else here.
 */
import { spawn } from "node:child_process";
import { useSharedSpawner } from "../../peer/process/spawner.ts";
import { gitEnv } from "../../peer/repo/git-child.ts";
import { percentile, report } from "./report.ts";

const BENCH = "process-spawn";
const LIVE_MIB = Number(process.env.LIVE_MIB ?? 1024);
const RUNS = Number(process.env.RUNS ?? 20);
const ARGS = ["cat-file", "--batch-check"];
const QUESTION = "0000000000000000000000000000000000000000\n";

const median = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50);

/** Read `stream` to its end. */
async function drain(stream: NodeJS.ReadableStream): Promise<void> {
  for await (const _ of stream) { /* the answer's bytes are not needed */ }
}

/** One start of git: [ms the event loop was held by the starting call, ms until git answered and exited]. */
async function direct(): Promise<[number, number]> {
  const start = performance.now();
  const child = spawn("git", ARGS, { env: gitEnv(), stdio: ["pipe", "pipe", "ignore"], detached: true });
  const held = performance.now() - start;
  const closed = new Promise((resolve) => child.on("close", resolve));
  child.stdin.end(QUESTION);
  await drain(child.stdout);
  await closed;
  return [held, performance.now() - start];
}

const spawner = useSharedSpawner();
await spawner.warm();

async function throughSpawner(): Promise<[number, number]> {
  const start = performance.now();
  const starting = spawner.spawn("git", ARGS, { env: gitEnv() });
  const held = performance.now() - start;
  const child = await starting;
  child.stdin.end(QUESTION);
  await drain(child.stdout);
  if (await child.exited !== 0) throw new Error(`git failed: ${child.stderr()}`);
  return [held, performance.now() - start];
}

async function measure(start: () => Promise<[number, number]>): Promise<{ held: number; total: number }> {
  for (let i = 0; i < 3; i++) await start(); // warm-up
  const held: number[] = [], total: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const [h, t] = await start();
    held.push(h);
    total.push(t);
  }
  return { held: median(held), total: median(total) };
}

const live: Buffer[] = [];
for (const mib of [0, LIVE_MIB]) {
  while (live.length < mib) live.push(Buffer.alloc(1024 * 1024, live.length & 0xff));
  const rss = process.memoryUsage.rss() / 2 ** 20;
  const before = await measure(direct);
  const after = await measure(throughSpawner);
  const note = `${mib} MiB held, RSS ${rss.toFixed(0)} MiB; baseline: a direct child_process.spawn`;
  report({
    bench: BENCH,
    metric: `event-loop-held-ms-${mib}mib`,
    value: after.held,
    unit: "ms",
    baseline: before.held,
    note,
  });
  report({
    bench: BENCH,
    metric: `start-to-exit-ms-${mib}mib`,
    value: after.total,
    unit: "ms",
    baseline: before.total,
    note,
  });
}
spawner.stop();
