/**
 * The CLI exits only once its output is out (peer/cli/exit-flushed.ts):
 * a command that prints more than a pipe holds, read by a reader that
 * starts only once the command has finished and is exiting, still delivers
 * every byte. Node writes to pipes asynchronously; exiting at once dropped
 * all but what the pipe and the reader's buffer held (~128 KiB), so
 * `weft agent transcript` through a slow reader lost most of a transcript.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import process from "node:process";

const BYTES = 1024 * 1024;

/** A command's last moments: prints BYTES, says on stderr that it is done, exits through exitFlushed. */
const COMMAND = `
import process from "node:process";
import { exitFlushed } from ${JSON.stringify(new URL("../../peer/cli/exit-flushed.ts", import.meta.url).href)};
for (let i = 0; i < ${BYTES / 1024}; i++) process.stdout.write("x".repeat(1023) + "\\n");
process.stderr.write("exiting\\n");
await exitFlushed(0);
`;

describe("the CLI's exit", () => {
  it("delivers all of a large output to a reader that starts reading only as the command exits", async () => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", COMMAND], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout.pause();
    let stderr = "";
    await new Promise<void>((resolve) =>
      child.stderr.on("data", (d: Buffer) => {
        stderr += d.toString();
        if (stderr.includes("exiting\n")) resolve();
      })
    );
    let received = 0;
    child.stdout.on("data", (d: Buffer) => received += d.length).resume();
    const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
    assert.equal(code, 0);
    assert.equal(received, BYTES, "every byte the command printed");
  });
});
