/**
 * Whether pwa/dist is missing or older than anything it is built from (the
 * app, its build scripts, protocol/, the dependency lock), so tests and
 * benchmarks rebuild only when they must.
 */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const INPUTS = ["pwa/index.html", "pwa/src", "pwa/build", "protocol", "package-lock.json"];
/** Written last by the build (see pwa-plugin.ts). */
export const BUILD_REPORT = join(REPO, "pwa/dist/build-report.json");

function newest(path: string): number {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) return 0;
  if (!st.isDirectory()) return st.mtimeMs;
  let latest = st.mtimeMs;
  for (const name of readdirSync(path)) {
    if (name === "node_modules" || name === "dist") continue;
    latest = Math.max(latest, newest(join(path, name)));
  }
  return latest;
}

export function pwaIsStale(): boolean {
  const built = statSync(BUILD_REPORT, { throwIfNoEntry: false });
  if (!built) return true;
  return INPUTS.some((p) => newest(join(REPO, p)) > built.mtimeMs);
}
