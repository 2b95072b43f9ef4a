/**
 * How long a `weft` command takes, as a user runs it: a fresh process each
 * time, wall time from spawn to exit, median over alternating rounds so
 * machine drift hits every figure alike.
 *
 *   id:              offline (keystore only); baseline `node -e 0`
 *   id-no-cache:     the same with Node's compile cache off, i.e. a first run
 *   task list:       two API requests to a running peer; baseline a fresh
 *                    node process making one bare HTTP request to the same peer
 * Targets (issue 18): offline commands < 150 ms, API commands < 300 ms.
 * On a loaded machine the ratios are the figures to compare.
 */
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";
import { percentile, report } from "./report.ts";
import { startPeer, stopPeer, weft } from "../helpers/peer-process.ts";

const BENCH = "cli";
const CLI = new URL("../../peer/cli/weft.js", import.meta.url).pathname;
const ROUNDS = 15;

/** Wall time of one fresh process, in ms; rejects if it fails. */
function timed(args: string[], env: Record<string, string>): Promise<number> {
  const start = performance.now();
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  child.stderr.on("data", (d) => (err += d));
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => {
      if (code === 0) resolve(performance.now() - start);
      else reject(new Error(`${args.join(" ")} exited ${code}: ${err}`));
    });
  });
}

const peer = await startPeer();
try {
  await weft(peer, "task", "add", "benchmark task");
  const { url } = JSON.parse(await readFile(join(peer.home, "cli.json"), "utf8")) as { url: string };
  const env = { WEFT_HOME: peer.home };
  const runs: Record<string, [string[], Record<string, string>]> = {
    "node -e 0": [["-e", "0"], {}],
    "bare http": [[
      "-e",
      `await fetch(${JSON.stringify(`${url}/healthz`)}).then((r) => r.text())`,
      "--input-type=module",
    ], {}],
    id: [[CLI, "id"], env],
    "id-no-cache": [[CLI, "id"], { ...env, NODE_DISABLE_COMPILE_CACHE: "1" }],
    "task list": [[CLI, "task", "list"], env],
  };
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(runs).map((k) => [k, []]));
  for (const [args, e] of Object.values(runs)) await timed(args, e); // warm the compile cache and the disk cache
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, [args, e]] of Object.entries(runs)) samples[name].push(await timed(args, e));
  }
  const median = (k: string) => percentile(samples[k].sort((a, b) => a - b), 50);
  report({
    bench: BENCH,
    metric: "weft id ms",
    value: median("id"),
    unit: "ms",
    baseline: median("node -e 0"),
    note: "target < 150 ms; baseline node -e 0",
  });
  report({
    bench: BENCH,
    metric: "weft id, compile cache off ms",
    value: median("id-no-cache"),
    unit: "ms",
    baseline: median("id"),
    note: "baseline: weft id with the cache",
  });
  report({
    bench: BENCH,
    metric: "weft task list ms",
    value: median("task list"),
    unit: "ms",
    baseline: median("bare http"),
    note: "target < 300 ms; baseline a fresh node process making one HTTP request",
  });
} finally {
  await stopPeer(peer);
}
