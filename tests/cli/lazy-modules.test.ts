/**
 * Every `weft` command reads weft.toml, and reading it names every bridge
 * kind; a bridge's heavy client must come in only when the bridge starts.
 * The Kubernetes client alone costs ~0.6 s of CPU to load, which a
 * `weft task list` must not pay. Run as a user runs it: a fresh process,
 * with a module hook that reports each module resolved.
 */
import { it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { promisify } from "node:util";

const CLI = new URL("../../peer/cli/weft.js", import.meta.url).pathname;
const HOOK = `data:text/javascript,${
  encodeURIComponent(
    'import { registerHooks } from "node:module";' +
      "registerHooks({ resolve(s, c, next) { const r = next(s, c);" +
      ' process.stderr.write("resolved " + r.url + "\\n"); return r; } });',
  )
}`;

it("a `weft task list` loads no bridge's cluster client", async () => {
  const dir = await mkdtemp(join(tmpdir(), "weft-lazy-"));
  try {
    const { stderr } = await promisify(execFile)(process.execPath, ["--import", HOOK, CLI, "task", "list"], {
      env: { ...process.env, WEFT_HOME: join(dir, "home") },
    }).catch((e: { stderr: string }) => e);
    const resolved = stderr.split("\n").filter((l) => l.startsWith("resolved "));
    assert.ok(resolved.some((l) => l.includes("bridges/kubernetes/config.ts")), "the bridges' config was read");
    const client = resolved.filter((l) => l.includes("@kubernetes/client-node"));
    assert.equal(client.length, 0, `the Kubernetes client was loaded: ${client[0]}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
