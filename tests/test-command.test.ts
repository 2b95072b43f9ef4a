/**
 * The test commands count every verdict. `npm test` and each of `.ci/run`'s
 * suites run test files in processes of their own under
 * `--test-force-exit`, which on Linux drops the last verdicts of files that
 * finish together (nodejs/node#64833): the run reports fewer tests than ran,
 * and a failure can lose its name and error. The `test:files` script loads
 * `tests/helpers/blocking-stdout.ts` first to prevent that; this checks the
 * script against many fast files running at once, and that every suite goes
 * through it.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const scripts = (JSON.parse(await readFile(join(root, "package.json"), "utf8")) as {
  scripts: Record<string, string>;
}).scripts;

/** Many files of many fast tests: they finish together, which is when force-exit dropped verdicts. */
const FILES = 40;
const TESTS_PER_FILE = 50;

/** Run the `test:files` script on `glob` from the repository's root; resolves with its output and exit code. */
function runTestFiles(glob: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    // A run of its own, not a part of this one (the runner marks the processes it starts as its children).
    const { NODE_TEST_CONTEXT: _, ...env } = process.env;
    const child = spawn("sh", ["-c", `${scripts["test:files"]} "$0"`, glob], {
      cwd: root,
      // This Node first on PATH, as npm puts node_modules/.bin first.
      env: { ...env, PATH: `${dirname(process.execPath)}:${process.env.PATH}` },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => (output += s));
    child.stderr.setEncoding("utf8").on("data", (s: string) => (output += s));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });
}

describe("the test commands", () => {
  it("count every verdict of many test files finishing together, a failure's name included", async () => {
    const dir = await mkdtemp(join(tmpdir(), "weft-test-command-"));
    try {
      for (let f = 0; f < FILES; f++) {
        const lines = [`import { test } from "node:test";`];
        for (let t = 0; t < TESTS_PER_FILE; t++) {
          // The last test of the last file fails: the verdict force-exit was most likely to lose.
          const body = f === FILES - 1 && t === TESTS_PER_FILE - 1 ? `{ throw new Error("planted failure"); }` : "{}";
          lines.push(`test("file ${f} test ${t}, named at some length as real tests are", () => ${body});`);
        }
        await writeFile(join(dir, `f${f}.test.mjs`), lines.join("\n"));
      }
      const { code, output } = await runTestFiles(join(dir, "*.test.mjs"));
      assert.equal(code, 1, `a failing test fails the run:\n${output.slice(-2000)}`);
      const count = (name: string) => Number(new RegExp(`^ℹ ${name} (\\d+)$`, "m").exec(output)?.[1]);
      assert.equal(count("tests"), FILES * TESTS_PER_FILE, `every test counted:\n${output.slice(-2000)}`);
      assert.equal(count("pass"), FILES * TESTS_PER_FILE - 1);
      assert.equal(count("fail"), 1);
      assert.match(
        output,
        new RegExp(`file ${FILES - 1} test ${TESTS_PER_FILE - 1}, named[^\\n]*\\n[^]*planted failure`),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("run every suite through the test:files script", async () => {
    assert.match(scripts["test:files"], /--import \.\/tests\/helpers\/blocking-stdout\.ts --test\b/);
    assert.match(scripts.test, /^npm run -s test:files -- /);
    const ci = await readFile(join(root, ".ci", "run"), "utf8");
    const direct = ci.split("\n").filter((line) => /\bnode\b.*--test\b/.test(line));
    assert.deepEqual(direct, [], "these .ci/run lines run node --test without the test:files script");
    assert.ok(ci.includes("npm run -s test:files -- "), ".ci/run runs its suites through test:files");
  });
});
