/**
 * The held start both runners use (peer/process/held-process.ts): a job's
 * first process runs nothing of the job until it is let go, and once let go
 * its very first instruction already runs inside the run's cgroups and
 * under its rlimits. Real cgroup v1 groups, as the runners make them. The
 * same for a spare, started before its job is known and given the job's
 * start script when let go: its arguments arrive exactly as given.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, rm, rmdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeFile } from "node:fs/promises";
import { HeldProcess, HOLD_THEN_SOURCE, startScript } from "../../peer/process/held-process.ts";
import { JobCgroup } from "../../bridges/containers/cgroup.ts";

const CGROUP_PARENT = `weft-test-held-${process.pid}`;

/** Everything the process wrote to stdout, and how it ended. */
function ended(held: HeldProcess): Promise<{ out: string; code: number | null }> {
  let out = "";
  held.child.stdout!.on("data", (c: Buffer) => out += c.toString());
  return new Promise((resolve) => held.child.on("close", (code) => resolve({ out, code })));
}

describe("held process", () => {
  after(async () => {
    for (const c of ["memory", "cpu", "pids"]) await rmdir(`/sys/fs/cgroup/${c}/${CGROUP_PARENT}`).catch(() => {});
  });

  it("runs nothing of the job when it is never let go", async () => {
    const dir = await mkdtemp(join(tmpdir(), "weft-held-"));
    try {
      const marker = join(dir, "ran");
      const held = new HeldProcess("weft-job", "/bin/sh", ["-c", `echo ran > ${marker}`], { env: {} });
      const end = ended(held);
      // Its stdin closes without "go" (as when the runner gives up on the run, or dies): it must exit untouched.
      held.child.stdin!.end();
      const { code } = await end;
      assert.equal(code, 125);
      assert.equal(existsSync(marker), false, "the job's command ran without being let go");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("runs the job's first instruction inside its cgroups and under its rlimits", async () => {
    const cgroup = await JobCgroup.create(CGROUP_PARENT, "job", { memoryMb: 64, cpus: 1, pids: 64 });
    try {
      // cat reads its own /proc entries as the first thing the job does.
      const held = new HeldProcess("weft-job", "cat", ["/proc/self/cgroup", "/proc/self/limits"], {
        env: { PATH: "/usr/bin:/bin" },
        rlimits: { fsize: 4096, nofile: 64, core: 0 },
      });
      const end = ended(held);
      await held.confine(cgroup.procsFiles);
      held.release();
      const { out, code } = await end;
      assert.equal(code, 0);
      for (const c of ["memory", "cpu", "pids"]) {
        assert.match(out, new RegExp(`^\\d+:[a-z_,]*\\b${c}\\b[a-z_,]*:/${CGROUP_PARENT}/job$`, "m"), `${c} group`);
      }
      assert.match(out, /^Max file size\s+4096\s+4096\s+bytes/m);
      assert.match(out, /^Max open files\s+64\s+64\s+files/m);
      assert.match(out, /^Max core file size\s+0\s+0\s+bytes/m);
    } finally {
      await cgroup.destroy();
    }
  });

  it("a spare runs nothing until given a start script, then exactly that command under its rlimits", async () => {
    const dir = await mkdtemp(join(tmpdir(), "weft-held-"));
    const cgroup = await JobCgroup.create(CGROUP_PARENT, "spare", { cpus: 1, pids: 64 });
    try {
      // Never given a script: its stdin closes and it exits untouched.
      const idle = new HeldProcess("weft-job", "bwrap", [], { script: HOLD_THEN_SOURCE, env: {} });
      const idleEnd = ended(idle);
      idle.child.stdin!.end();
      assert.equal((await idleEnd).code, 125);
      // Moved into its groups before its job is known; the memory limit comes with the job.
      const spare = new HeldProcess("weft-job", "bwrap", [], { script: HOLD_THEN_SOURCE, env: {} });
      const end = ended(spare);
      await spare.confine(cgroup.procsFiles);
      await cgroup.limitMemory(64);
      const tricky = ["it's", "$(touch pwned)", "a b", "line\nbreak", "'", "\\", "`id`", "*", ""];
      const start = join(dir, "start.sh");
      const script = 'printf \'%s|\' "$0" "$@"; cat /proc/self/cgroup /proc/self/limits';
      await writeFile(start, startScript("/bin/sh", ["-c", script, "job", ...tricky], { nofile: 64, core: 0 }));
      spare.release(start);
      const { out, code } = await end;
      assert.equal(code, 0);
      assert.ok(out.startsWith(`job|${tricky.join("|")}|`), `arguments arrive verbatim: ${out.slice(0, 120)}`);
      assert.equal(existsSync(join(dir, "pwned")) || existsSync("pwned"), false);
      for (const c of ["memory", "cpu", "pids"]) {
        assert.match(out, new RegExp(`^\\d+:[a-z_,]*\\b${c}\\b[a-z_,]*:/${CGROUP_PARENT}/spare$`, "m"), `${c} group`);
      }
      assert.match(out, /^Max open files\s+64\s+64\s+files/m);
      assert.throws(() => startScript("/bin/echo", ["nul\0byte"]), RangeError);
    } finally {
      await cgroup.destroy();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
