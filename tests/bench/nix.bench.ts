/**
 * Nix job start latency: a build submitted on a real peer, its source
 * uploaded just before as `weft run` does (signed create
 * operation through its API, placement, claim, source fetched and unpacked,
 * nix started in the run's namespaces and cgroups) until the builder's first
 * log line reaches the run's log, against `nix-build` of the same
 * derivation started directly, in the same run, until it prints that line;
 * and the runner's share alone (from the scheduler starting the run).
 * Every round builds a fresh derivation (a nonce in its script), so neither
 * side finds it built. Two cases: a fresh source every round (the peer
 * unpacks it, where raw has it on disk), and one source holding a
 * derivation per round (`bench.nix#r<i>`), which the peer has unpacked
 * already (its source cache), as raw has. Target: ≤ 1.2× raw at p50.
 */
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import type { RunSpec } from "../../protocol/runner/index.ts";
import { uploadSource } from "../../peer/cli/run-source.ts";
import { writeNixConf } from "../../bridges/nix/config.ts";
import { testDaemon } from "../helpers/daemon.ts";
import { percentile, report } from "./report.ts";
import { reportPhases, SubmitTimer } from "./submit-phases.ts";
import { removeProjects, writeProject } from "../nix/projects.ts";

const BENCH = "nix";
const ROUNDS = Number(process.env.ROUNDS ?? 10);

const marker = (nonce: string) => `first line ${nonce}`;
const project = (nonce: string) =>
  writeProject({
    "bench.nix": `(import ./lib.nix {}).mk "bench" ''\necho "${
      marker(nonce)
    }"; mkdir $out; echo ${nonce} > $out/n\n''\n`,
  });

/** One project, one derivation per round and one to warm up: attribute `r<i>` prints the marker of `<nonce>-<i>`. */
const rounds = (nonce: string) =>
  writeProject({
    "bench.nix": `let mk = (import ./lib.nix {}).mk; in {\n${
      Array.from(
        { length: ROUNDS + 1 },
        (_, i) => `  r${i} = mk "bench" ''\necho "${marker(`${nonce}-${i}`)}"; mkdir $out; echo ${i} > $out/n\n'';\n`,
      ).join("")
    }}\n`,
  });

/** `nix-build` of the project's bench.nix (attribute `attr`), straight: ms until it prints the marker line. */
function raw(dir: string, nonce: string, confDir: string, attr?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn("nix-build", [join(dir, "bench.nix"), "--no-out-link", ...(attr ? ["-A", attr] : [])], {
      env: { PATH: process.env.PATH, NIX_CONF_DIR: confDir, HOME: dir },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let text = "";
    let at: number | undefined;
    child.stderr.on("data", (c: Buffer) => {
      text += c.toString();
      if (at === undefined && text.includes(marker(nonce))) at = performance.now() - t0;
    });
    child.on(
      "close",
      (code) => code === 0 && at !== undefined ? resolve(at) : reject(new Error(`nix-build exited ${code}: ${text}`)),
    );
  });
}

const confDir = await writeNixConf(mkdtempSync(join(tmpdir(), "weft-nix-bench-conf-")));
const peer = await testDaemon({ WEFT_SLOTS: "1" });
const { spaces } = await peer.client.get<{ spaces: Array<{ id: string }> }>("/v1/spaces");
const space = spaces[0].id;
const timer = new SubmitTimer(peer, space);

/**
 * Uploads the project as `weft run` does (packed, through the API; not timed), then submits a build of it: ms from
 * submitting until the marker line is in the run's log.
 */
async function weft(dir: string, nonce: string, attr?: string): Promise<number> {
  const { cid } = await uploadSource(peer.client, space, dir, undefined, () => {});
  const run: RunSpec = {
    runner: "nix",
    program: attr ? `bench.nix#${attr}` : "bench.nix",
    args: [],
    inputs: [],
    env: [],
    limits: { wallMs: 60_000, memoryMb: 256, outputBytes: 1 << 20 },
    source: { cid },
  };
  return await timer.submit(run, (line) => line.text.includes(marker(nonce)), `bench ${nonce}`);
}

const rawMs: number[] = [];
const weftMs: number[] = [];
// Not timed: the first build on each side imports busybox into its store.
const warm = `warm-${Date.now()}`;
await weft(project(warm), warm);
await raw(project(`${warm}-raw`), `${warm}-raw`, confDir);
timer.reset();
for (let i = 0; i < ROUNDS; i++) {
  const nonce = `${Date.now()}-${i}`;
  rawMs.push(await raw(project(`raw-${nonce}`), `raw-${nonce}`, confDir));
  weftMs.push(await weft(project(`weft-${nonce}`), `weft-${nonce}`));
}
rawMs.sort((a, b) => a - b);
weftMs.sort((a, b) => a - b);
for (const p of [50, 90]) {
  report({
    bench: BENCH,
    metric: `submit-to-first-log-line-p${p}`,
    value: percentile(weftMs, p),
    unit: "ms",
    baseline: percentile(rawMs, p),
    note:
      `baseline: nix-build of the same derivation, started directly, to the same line; target ≤ 1.2× at p50; ${ROUNDS} rounds`,
  });
}
reportPhases(BENCH, "", timer, percentile(rawMs, 50), "raw nix-build");
// One source for every round: the peer unpacks it at the warm-up build and keeps it.
const sameNonce = `same-${Date.now()}`;
const [rawSame, weftSame] = [rounds(`raw-${sameNonce}`), rounds(`weft-${sameNonce}`)];
// Not timed: the source's first build on the peer unpacks it.
await weft(weftSame, `weft-${sameNonce}-${ROUNDS}`, `r${ROUNDS}`);
timer.reset();
const rawSameMs: number[] = [];
const weftSameMs: number[] = [];
for (let i = 0; i < ROUNDS; i++) {
  rawSameMs.push(await raw(rawSame, `raw-${sameNonce}-${i}`, confDir, `r${i}`));
  weftSameMs.push(await weft(weftSame, `weft-${sameNonce}-${i}`, `r${i}`));
}
rawSameMs.sort((a, b) => a - b);
weftSameMs.sort((a, b) => a - b);
report({
  bench: BENCH,
  metric: "same-source-submit-to-first-log-line-p50",
  value: percentile(weftSameMs, 50),
  unit: "ms",
  baseline: percentile(rawSameMs, 50),
  note:
    "one source, a new derivation each round (bench.nix#r<i>): the peer has the tree unpacked (its source cache), " +
    "as nix-build has it on disk; target ≤ 1.2× at p50",
});
reportPhases(BENCH, "same-source-", timer, percentile(rawSameMs, 50), "raw nix-build");
await peer.stop();
removeProjects();
process.exit(0);
