import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import { knowsExternalMemoryFlag } from "../../peer/daemon/heap-flags.ts";

const LOAD = fileURLToPath(new URL("./heap-flags-load.ts", import.meta.url));

/** Run the bulk-bytes load in a fresh process, as the daemon sets itself up or with V8's defaults. */
async function load(mode: "tuned" | "default"): Promise<{ major: number; peakRssMiB: number }> {
  const { stdout } = await promisify(execFile)(process.execPath, [LOAD, mode], { timeout: 120_000 });
  return JSON.parse(stdout);
}

describe("the daemon's V8 flags", () => {
  it("keeps short-lived bulk buffers from starting a full collection every 64 MB, at a bounded cost in memory", {
    skip: !knowsExternalMemoryFlag() && "this V8 has no --external-memory-accounted-in-global-limit",
  }, async () => {
    const plain = await load("default");
    // Measured: 28–34 full collections by default, 1 tuned. V8 sizes its limits by how much CPU the process got
    // (mutator utilization), which the rest of a loaded machine changes: 2 runs in 20 tuned took 9 and 15. The flag
    // is shown by one run of up to three; without it none of them comes near.
    assert.ok(
      plain.major >= 10,
      `the default V8 ran only ${plain.major} full collections: the load no longer tests this`,
    );
    let tuned = await load("tuned");
    for (let run = 1; run < 3 && tuned.major * 2 >= plain.major; run++) tuned = await load("tuned");
    assert.ok(tuned.major * 2 < plain.major, `tuned ${tuned.major} full collections against ${plain.major} by default`);
    // Measured: +65 MiB, the same for 420 MB moved as for 840 MB: the buffers wait longer, not without bound.
    assert.ok(
      tuned.peakRssMiB - plain.peakRssMiB < 200,
      `peak RSS ${tuned.peakRssMiB} MiB tuned against ${plain.peakRssMiB} MiB by default`,
    );
  });

  it("is set only on a V8 that knows the flag (13.6, Node 24's, and newer)", () => {
    assert.equal(knowsExternalMemoryFlag("13.6.233.17-node.53"), true);
    assert.equal(knowsExternalMemoryFlag("14.0.1"), true);
    assert.equal(knowsExternalMemoryFlag("13.5.9"), false);
    assert.equal(knowsExternalMemoryFlag("11.3.244.8-node.19"), false);
  });
});
