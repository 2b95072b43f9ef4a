/**
 * Where the CLI keeps Node's compile cache (peer/cli/weft.js), run as a
 * user runs it: a fresh `node peer/cli/weft.js id` process each time. The
 * second run takes every TypeScript module already stripped from the
 * cache; the cache is in the user's cache folder, or, when that cannot be
 * written, in a temp folder of the user's own; and a temp folder someone
 * else could have planted code in is never used.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { chmod, chown, lstat, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { promisify } from "node:util";

const CLI = new URL("../../peer/cli/weft.js", import.meta.url).pathname;
const run = promisify(execFile);

/** Runs `weft id` with Node's compile-cache debug log on; its stdout and that log. */
async function weftId(dir: string, env: Record<string, string>): Promise<{ did: string; log: string }> {
  const base = { ...process.env };
  delete base.NODE_COMPILE_CACHE;
  delete base.NODE_DISABLE_COMPILE_CACHE;
  const { stdout, stderr } = await run(process.execPath, [CLI, "id"], {
    env: { ...base, WEFT_HOME: join(dir, "home"), NODE_DEBUG_NATIVE: "COMPILE_CACHE", ...env },
  });
  return { did: stdout.trim(), log: stderr };
}

/** TypeScript modules the run stripped itself, and those it took stripped from the cache. */
function transpiles(log: string): { stripped: number; cached: number } {
  return {
    stripped: log.match(/no transpile cache for StrippedTypeScript/g)?.length ?? 0,
    cached: log.match(/retrieving transpile cache for StrippedTypeScript \S+success/g)?.length ?? 0,
  };
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "weft-cc-"));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const uid = process.getuid?.() ?? "user";

describe("the CLI's compile cache", () => {
  it("is kept in the user's cache folder, and a second run strips no TypeScript", () =>
    withDir(async (dir) => {
      const env = { XDG_CACHE_HOME: join(dir, "cache"), TMPDIR: join(dir, "tmp") };
      const first = await weftId(dir, env);
      assert.match(first.did, /^did:key:z6Mk/);
      assert.ok(transpiles(first.log).stripped > 10, "the first run strips the modules it loads");
      assert.ok((await readdir(join(dir, "cache", "weft", "node-compile-cache"))).length > 0);
      const second = await weftId(dir, env);
      assert.equal(second.did, first.did);
      assert.deepEqual(transpiles(second.log), { stripped: 0, cached: transpiles(first.log).stripped });
    }));

  it("falls back to a folder of the user's own under the temp dir when the cache folder cannot be written", () =>
    withDir(async (dir) => {
      await writeFile(join(dir, "not-a-dir"), "");
      await mkdir(join(dir, "tmp"));
      const env = { XDG_CACHE_HOME: join(dir, "not-a-dir"), TMPDIR: join(dir, "tmp") };
      const first = await weftId(dir, env);
      const own = join(dir, "tmp", `weft-${uid}`);
      assert.equal((await lstat(own)).mode & 0o777, 0o700);
      assert.ok((await readdir(join(own, "node-compile-cache"))).length > 0);
      const second = await weftId(dir, env);
      assert.equal(second.did, first.did);
      assert.equal(transpiles(second.log).stripped, 0);
    }));

  it("never uses a temp folder that others can write, that is a link, or that another user owns", async (t) => {
    const planted: Array<[string, (at: string, dir: string) => Promise<void>]> = [
      ["writable by others", async (at) => {
        await mkdir(at);
        await chmod(at, 0o777);
      }],
      ["a symbolic link", async (at, dir) => {
        await mkdir(join(dir, "elsewhere"), { mode: 0o700 });
        await symlink(join(dir, "elsewhere"), at);
      }],
    ];
    if (process.getuid?.() === 0) {
      planted.push(["owned by another user", async (at) => {
        await mkdir(at, { mode: 0o700 });
        await chown(at, 65534, 65534);
      }]);
    } else t.diagnostic("not root: the other-owner case needs chown and is skipped");
    for (const [what, plant] of planted) {
      await withDir(async (dir) => {
        await writeFile(join(dir, "not-a-dir"), "");
        await mkdir(join(dir, "tmp"));
        const at = join(dir, "tmp", `weft-${uid}`);
        await plant(at, dir);
        const { did, log } = await weftId(dir, { XDG_CACHE_HOME: join(dir, "not-a-dir"), TMPDIR: join(dir, "tmp") });
        assert.match(did, /^did:key:z6Mk/, `${what}: the command still runs`);
        assert.equal(transpiles(log).cached, 0, `${what}: nothing is taken from it`);
        const inside = await readdir(at).catch(() => []);
        const behindLink = await readdir(join(dir, "elsewhere")).catch(() => []);
        assert.deepEqual([...inside, ...behindLink], [], `${what}: nothing is written into it`);
      });
    }
  });
});
