/**
 * The WebAssembly runner under Deno: its subprocess backend (and the
 * browser backend, on Deno's Web Workers) run good jobs and stop hostile
 * ones at their limits. Deno runs tests/wasm/deno-driver.ts; this checks
 * what it reports.
 */
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { join } from "node:path";
import process from "node:process";
import { promisify } from "node:util";
import { buildSamples } from "../../wasm-runners/samples/build.ts";
import type { Report } from "./deno-report.ts";

const root = new URL("../../", import.meta.url).pathname;
let reports: Report[];

const find = (backend: string, sample: string, args?: string[]) => {
  const r = reports.find((x) =>
    x.backend === backend && x.sample === sample && (args === undefined || x.args.join(" ") === args.join(" "))
  );
  assert.ok(r, `${backend} ran ${sample} ${args?.join(" ") ?? ""}`);
  return r;
};

before(async () => {
  await buildSamples();
  const { stdout } = await promisify(execFile)(
    join(root, "node_modules/.bin/deno"),
    ["run", "-A", join(root, "tests/wasm/deno-driver.ts")],
    // A safety net, not a deadline: each program's first transpile starts a subprocess, slow on a loaded machine.
    { cwd: root, env: { ...process.env, NO_COLOR: "1" }, timeout: 600_000 },
  );
  reports = stdout.trim().split("\n").map((l) => JSON.parse(l));
});

describe("the wasm runner under Deno", () => {
  const digest = createHash("sha256").update("one\ntwo\nthree\n").digest("hex");

  for (const backend of ["deno", "browser"]) {
    it(`${backend}: runs good jobs`, () => {
      assert.deepEqual(find(backend, "hasher").outputs, { sha256sums: `${digest}  data.txt\n` });
      const upper = find(backend, "upper");
      assert.equal(upper.status, "succeeded", upper.reason);
      assert.deepEqual(upper.outputs, { "UP.txt": "ONE\nTWO\nTHREE\n" });
      const slept = find(backend, "sleep", ["200"]);
      assert.equal(slept.status, "succeeded", slept.reason);
      assert.deepEqual(slept.outputs, { "slept.txt": "slept 200 ms\n" });
    });

    it(`${backend}: stops a memory bomb at its memory limit`, () => {
      const r = find(backend, "memory-bomb");
      assert.equal(r.status, "out-of-memory", r.reason);
    });
  }

  it("deno: stops an infinite loop at its wall-time limit, streaming its logs", () => {
    const r = find("deno", "spin");
    assert.equal(r.status, "timeout", r.reason);
    assert.deepEqual(r.logs, ["spinning"]);
  });

  it("deno: sleep runs for its time, and is stopped by a shorter wall-time limit", () => {
    const slept = find("deno", "sleep", ["200"]);
    assert.equal(slept.status, "succeeded", slept.reason);
    assert.deepEqual(slept.logs, ["sleeping 200 ms", "done"]);
    assert.deepEqual(slept.outputs, { "slept.txt": "slept 200 ms\n" });
    const stopped = find("deno", "sleep", ["60000"]);
    assert.equal(stopped.status, "timeout", stopped.reason);
    assert.deepEqual(stopped.logs, ["sleeping 60000 ms"]);
  });

  it("deno: transpiles components in a subprocess under its own heap limit, not on the runner's thread", () => {
    const r = find("deno-starved-transpile", "hasher");
    assert.equal(r.status, "error");
    assert.match(r.reason ?? "", /could not be transpiled: the transpiler ran out of its 8 MB heap/);
  });

  it("deno: stops a flood at the output limit", () => {
    assert.equal(find("deno", "flood").status, "output-limit");
  });

  it("deno: keeps the job inside its preopens and off the network", () => {
    const escape = find("deno", "escape").outputs["report.txt"].trim().split("\n");
    const worked = escape.filter((l) => l.endsWith(" 0"));
    assert.deepEqual(worked, ["symlink-relative 0"]);
    assert.ok(!escape.some((l) => l.includes("leaked")));
    assert.deepEqual(find("deno", "net-probe").logs.slice(0, 3), ["tcp err 1", "udp err 1", "dns err 1"]);
  });
});
