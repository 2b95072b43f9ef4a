import { it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import process from "node:process";

const run = promisify(execFile);
const main = new URL("../../peer/main.ts", import.meta.url).pathname;

it("npm start creates an identity on first run and loads the same one after", async () => {
  const home = await mkdtemp(join(tmpdir(), "weft-home-"));
  try {
    const env = { ...process.env, WEFT_HOME: home };
    const first = await run(process.execPath, [main], { env });
    const did = first.stdout.match(/did:key:z6Mk\w+/)?.[0];
    assert.ok(did, first.stdout);
    assert.match(first.stdout, /created identity/);
    const second = await run(process.execPath, [main], { env });
    assert.match(second.stdout, /loaded identity/);
    assert.ok(second.stdout.includes(did));
  } finally {
    await rm(home, { recursive: true, force: true });
  }
});
