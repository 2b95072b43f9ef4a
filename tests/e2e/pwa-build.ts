/** Build pwa/dist for browser tests and benchmarks, only when it is missing or older than its sources. */
import { spawnSync } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";

const BUILD = fileURLToPath(new URL("../../pwa/build/build.ts", import.meta.url));

export function ensurePwaBuilt(): void {
  const r = spawnSync(process.execPath, [BUILD, "--if-stale"], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`building the PWA failed:\n${r.stdout}\n${r.stderr}`);
}
