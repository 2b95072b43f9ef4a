/**
 * `npm run build:pwa`: build the dashboard into pwa/dist (offline: nothing
 * is fetched; idempotent: the same sources give the same files). With
 * `--if-stale`, only when pwa/dist is missing or older than its sources.
 * Concurrent builds (parallel test files) wait for each other on a lock.
 */
import { mkdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { build } from "vite";
import { pwaConfig } from "./config.ts";
import { pwaIsStale } from "./stale.ts";

const LOCK = join(tmpdir(), "weft-pwa-build.lock");
/** A lock older than this belongs to a build that died. */
const STALE_LOCK_MS = 5 * 60_000;

async function lock(): Promise<void> {
  for (;;) {
    try {
      mkdirSync(LOCK);
      return;
    } catch {
      const st = statSync(LOCK, { throwIfNoEntry: false });
      if (st && Date.now() - st.mtimeMs > STALE_LOCK_MS) rmSync(LOCK, { recursive: true, force: true });
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

const ifStale = process.argv.includes("--if-stale");
await lock();
try {
  if (ifStale && !pwaIsStale()) console.log("pwa/dist is up to date");
  else await build(pwaConfig());
} finally {
  rmSync(LOCK, { recursive: true, force: true });
}
