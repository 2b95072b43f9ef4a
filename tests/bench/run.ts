/**
 * `npm run bench` runs every tests/bench/*.bench.ts in its own process;
 * `npm run bench -- NAME` runs tests/bench/NAME.bench.ts only. A bench
 * whose header says `@bench-deno` runs under Deno as well.
 */
import { readdirSync, readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import process from "node:process";

const dir = fileURLToPath(new URL(".", import.meta.url));
const all = readdirSync(dir).filter((f) => f.endsWith(".bench.ts")).map((f) => f.slice(0, -".bench.ts".length)).sort();
const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !all.includes(w));
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(", ")}; available: ${all.join(", ")}`);
  process.exit(2);
}
let failed = 0;
const deno = new URL("../../node_modules/.bin/deno", import.meta.url).pathname;
for (const name of wanted.length > 0 ? wanted : all) {
  const file = `${dir}/${name}.bench.ts`;
  const runs: [string, string[]][] = [[process.execPath, ["--expose-gc", file]]];
  if (readFileSync(file, "utf8").includes("@bench-deno")) {
    runs.push([deno, ["run", "-A", "--v8-flags=--expose-gc", file]]);
  }
  for (const [cmd, args] of runs) {
    const r = spawnSync(cmd, args, {
      stdio: "inherit",
      env: { ...process.env, CBOR_NATIVE_ACCELERATION_DISABLED: "true" },
    });
    if (r.status !== 0) {
      console.error(`benchmark ${name} failed under ${cmd} (exit ${r.status})`);
      failed++;
    }
  }
}
process.exit(failed > 0 ? 1 : 0);
