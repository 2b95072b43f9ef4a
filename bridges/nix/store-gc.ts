/**
 * Garbage collection of a nix runner's own store, which every build would
 * otherwise fill for ever (sources copied in, busybox trees, derivations,
 * intermediate outputs). What must stay is rooted: a build in progress holds
 * nix's temporary roots and an out-link in its run directory; each run that
 * succeeded roots its output paths under `gcroots/weft-runs/` (so `--check`
 * and a re-run find them, and what the node reported stays inspectable).
 * A collection first removes everything unrooted; when a size budget is
 * given and the store is still over it, the oldest runs' roots are dropped
 * (a quarter at a time, the newest kept longest) and it collects again. Runs
 * from the runner after each run when the store passed `max_store_mb`, and
 * from `weft nix gc`; nix's own GC lock keeps two collections (or a
 * collection and a build) from racing.
 */
import { mkdir, readdir, rm, stat, symlink } from "node:fs/promises";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { WeftError } from "#protocol";
import { runNix } from "./process.ts";

export interface StorePaths {
  /** The directory mounted at /nix. */
  storeRoot: string;
  /** NIX_CONF_DIR. */
  confDir: string;
  /** Where a nix command may keep its HOME and cwd. */
  runsDir: string;
}

export interface Collection {
  beforeBytes: number;
  afterBytes: number;
  /** Runs whose output roots were dropped to meet the budget. */
  runsDropped: number;
  /** Runs whose outputs are still rooted. */
  runsKept: number;
}

const RUNS_ROOTS = ["var", "nix", "gcroots", "weft-runs"];
const OUTPUT_NAME = /^[A-Za-z0-9_+-]{1,64}$/;
const STORE_PATH = /^\/nix\/store\/[0-9a-z]{32}-[A-Za-z0-9+._?=-]+$/;

/**
 * The bytes of the store's valid paths: the sum of their NAR sizes as nix registered them, one query of the store's
 * database (read-only; nix keeps it in WAL mode, so a build writing meanwhile is neither blocked nor seen half-done).
 * The runner asks after every run, so this must not walk the store: `du -s` over it took a process and a stat per
 * file, growing with every build. 0 for a store nix has not made its database in yet.
 */
export async function storeBytes(storeRoot: string): Promise<number> {
  const file = join(storeRoot, "var", "nix", "db", "db.sqlite");
  if (!(await stat(file).catch(() => undefined))) return 0;
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    const row = db.prepare("SELECT coalesce(sum(narSize), 0) AS bytes FROM ValidPaths").get() as { bytes: number };
    return Number(row.bytes);
  } finally {
    db.close();
  }
}

/** The roots directory and, per run, its roots (oldest run first: names start with the run's end time). */
async function runRoots(storeRoot: string): Promise<{ dir: string; runs: Map<string, string[]> }> {
  const dir = join(storeRoot, ...RUNS_ROOTS);
  const runs = new Map<string, string[]>();
  for (const name of (await readdir(dir).catch(() => [] as string[])).sort()) {
    const run = name.split("~")[0];
    runs.set(run, [...runs.get(run) ?? [], name]);
  }
  return { dir, runs };
}

/**
 * Root a succeeded run's outputs (`name` → store path) so collections keep them. Written before the run reports
 * success; the run's out-link held them until then.
 */
export async function keepRunOutputs(storeRoot: string, runId: string, outputs: Record<string, string>) {
  const dir = join(storeRoot, ...RUNS_ROOTS);
  await mkdir(dir, { recursive: true });
  const run = `${String(Date.now()).padStart(15, "0")}-${runId}`;
  for (const [name, path] of Object.entries(outputs)) {
    if (!OUTPUT_NAME.test(name) || !STORE_PATH.test(path)) {
      throw new WeftError("RunnerError", "nix/store-gc", `nix named an unexpected output ${name} = ${path}`);
    }
    await symlink(path, join(dir, `${run}~${name}`));
  }
}

/** `nix-store --gc` in the runner's store (in its private mount namespace); throws with nix's words if it fails. */
async function nixGc(paths: StorePaths): Promise<void> {
  const said: string[] = [];
  const { code } = await runNix({
    argv: ["nix-store", "--gc"],
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: paths.runsDir, NIX_CONF_DIR: paths.confDir },
    cwd: paths.runsDir,
    storeRoot: paths.storeRoot,
    stdout: "keep",
    onLine: (_, t) => said.push(t),
  });
  if (code !== 0) {
    throw new WeftError(
      "RunnerError",
      "nix/store-gc",
      `nix-store --gc failed in ${paths.storeRoot}: ${said.slice(-3).join(" / ") || `exit code ${code}`}`,
    );
  }
}

/** Collect garbage; with `maxBytes`, also drop the oldest runs' roots until the store fits (or none is left). */
export async function collectGarbage(paths: StorePaths, maxBytes?: number): Promise<Collection> {
  const beforeBytes = await storeBytes(paths.storeRoot);
  await nixGc(paths);
  let afterBytes = await storeBytes(paths.storeRoot);
  let runsDropped = 0;
  for (;;) {
    const { dir, runs } = await runRoots(paths.storeRoot);
    if (maxBytes === undefined || afterBytes <= maxBytes || runs.size === 0) {
      return { beforeBytes, afterBytes, runsDropped, runsKept: runs.size };
    }
    const oldest = [...runs.values()].slice(0, Math.max(1, Math.floor(runs.size / 4)));
    for (const names of oldest) for (const n of names) await rm(join(dir, n), { force: true });
    runsDropped += oldest.length;
    await nixGc(paths);
    afterBytes = await storeBytes(paths.storeRoot);
  }
}
