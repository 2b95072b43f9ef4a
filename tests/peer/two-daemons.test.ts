/**
 * Two peers started as real processes (`npm start`) join each other
 * through the `weft` CLI; a task added with the CLI on one appears through
 * the API on the other; both stop cleanly on SIGTERM with exit code 0.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import process from "node:process";
import type { TaskView } from "../../protocol/tasks/query.ts";
import { eventually } from "../helpers/nodes.ts";
import { startPeer, stopPeer as stop, weft } from "../helpers/peer-process.ts";

const run = promisify(execFile);
const CLI = new URL("../../peer/cli/weft.js", import.meta.url).pathname;

describe("two peer processes and the CLI", () => {
  it("join through the CLI; a CLI task on one shows in the other's API", async () => {
    const [a, b] = await Promise.all([startPeer(), startPeer()]);
    let stopped = false;
    try {
      const bDid = await weft(b, "id");
      assert.match(bDid, /^did:key:z6Mk/);
      const invite = await weft(a, "space", "invite", "--to", bDid, "--name", "b");
      assert.match(invite, /^weft-invite:/);
      const joined = JSON.parse(await weft(b, "join", a.address, "--invite", invite, "--json"));
      assert.equal(joined.name, "personal");
      const created = JSON.parse(
        await weft(b, "task", "add", "written on b", "--label", "cli", "--space", joined.id, "--json"),
      );
      const apiA = await a.api();
      const seen = await eventually(
        () =>
          apiA.get<TaskView>(`/v1/spaces/${encodeURIComponent(joined.id)}/tasks/${created.id}`).catch(() => undefined),
        15_000,
        "task on a",
      );
      assert.equal(seen!.title, "written on b");
      assert.deepEqual(seen!.labels, ["cli"]);
      // And the other way, read back with the CLI.
      const fromA = JSON.parse(await weft(a, "task", "add", "written on a", "--json"));
      await eventually(
        async () => (await weft(b, "task", "list", "--space", joined.id)).includes(fromA.id.slice(0, 8)),
        15_000,
        "task on b",
      );
      const codes = await Promise.all([stop(a), stop(b)]);
      stopped = true;
      assert.deepEqual(codes, [0, 0], "clean shutdown on SIGTERM");
    } finally {
      if (!stopped) await Promise.all([stop(a), stop(b)]);
    }
  });

  it("the CLI's exit codes and errors are scriptable", async () => {
    const home = await mkdtemp(join(tmpdir(), "weft-nopeer-"));
    try {
      const fail = (args: string[]) =>
        run(process.execPath, [CLI, ...args], { env: { ...process.env, WEFT_HOME: home } }).then(
          () => ({ code: 0, stderr: "" }),
          (e) => ({ code: e.code as number, stderr: String(e.stderr) }),
        );
      assert.equal((await fail(["task", "list"])).code, 69, "no peer running: unavailable");
      assert.equal((await fail(["frobnicate"])).code, 2);
      assert.equal((await fail(["task", "add"])).code, 69);
      assert.equal((await fail(["task", "claim", "x", "--lease", "soon"])).code, 69);
      const help = await run(process.execPath, [CLI, "task", "add", "--help"], {
        env: { ...process.env, WEFT_HOME: home },
      });
      assert.match(help.stdout, /usage: weft task add/);
      const top = await run(process.execPath, [CLI, "--help"], { env: { ...process.env, WEFT_HOME: home } });
      assert.match(top.stdout, /exit codes/);
      const bad = await fail(["task", "list"].concat([]));
      assert.match(bad.stderr, /weft up/);
      const badEnv = await run(process.execPath, [CLI, "space", "list"], {
        env: { ...process.env, WEFT_HOME: home, WEFT_HTTP_PORT: "x" },
      }).catch((e) => e);
      assert.equal(badEnv.code, 2);
      assert.match(String(badEnv.stderr), /WEFT_HTTP_PORT must be an integer/);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});
