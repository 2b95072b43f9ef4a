/**
 * The held start both runners use (peer/process/held-process.ts): a job's
 * first process runs nothing of the job until it is let go, and once let go
 * its very first instruction already runs inside the run's cgroups and
 * under its rlimits. Real cgroup v1 groups, as the runners make them.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, rm, rmdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HeldProcess } from "../../peer/process/held-process.ts";
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
});
