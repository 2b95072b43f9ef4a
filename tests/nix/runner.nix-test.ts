/**
 * The Nix runner against real nix (Debian's nix-bin, no nixpkgs: busybox
 * builders): a build's log streams while it runs and its outputs are
 * described exactly with the derivation recorded; a flake output and a
 * dev-shell command work; a nondeterministic derivation is reported; what
 * the shared contract (contract.nix-test.ts) does not cover: a log flood, a
 * fixed-output derivation reaching for a server on the host, a dev-shell
 * command reaching outside its tree, specs refused before anything runs;
 * and no process is left in the run's cgroups.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LogLine, ManagedRunner, RunResult, RunSpec } from "../../protocol/runner/index.ts";
import { nixPlugin } from "../../bridges/nix/runner.ts";
import { nixPaths, parseNixConfig } from "../../bridges/nix/config.ts";
import { eventually } from "../helpers/nodes.ts";
import { MemoryContentStore } from "../helpers/content-store.ts";
import { nixSpec, removeProjects, storeProject, WORDS_PROJECT, writeProject } from "./projects.ts";

const quiet = { debug() {}, info() {}, warn() {} };
const stateDir = mkdtempSync(join(tmpdir(), "weft-nix-state-"));
const store = new MemoryContentStore();
let runner: ManagedRunner;
let source: { cid: string };
/** Outside /tmp, which both sandboxes replace with their own: a real host directory. */
const outside = mkdtempSync("/var/tmp/weft-nix-outside-");
const escapee = join(outside, "escaped");
const secret = join(outside, "secret");
writeFileSync(secret, "THE-HOST-SECRET\n");

/** Hostile and ordinary derivations, one file each, all in the one project. */
const drv = (name: string, script: string) => `(import ./lib.nix {}).mk "${name}" ''\n${script}\n''\n`;
const HOSTILE: Record<string, string> = {
  "chatty.nix": drv("chatty", "yes 'a line of log that repeats forever'"),
  "sleepy.nix": drv("sleepy", "echo awake; sleep 2; echo done > $out"),
  "outside.nix": drv(
    "outside",
    `cat ${secret}; echo x > ${escapee} && echo WROTE; ls / ; mkdir $out`,
  ),
};

/** Starts a run and collects its log lines as they come; `firstLineBeforeEnd` says a line arrived before `done`. */
async function run(spec: RunSpec): Promise<{ result: RunResult; lines: LogLine[]; firstLineBeforeEnd: boolean }> {
  const handle = runner.start(spec, store);
  started.push(handle.id);
  let ended = false;
  void handle.done.then(() => ended = true);
  const lines: LogLine[] = [];
  let firstLineBeforeEnd = false;
  for await (const line of handle.logs) {
    if (lines.length === 0) firstLineBeforeEnd = !ended;
    lines.push(line);
  }
  return { result: await handle.done, lines, firstLineBeforeEnd };
}

const text = (lines: LogLine[]) => lines.map((l) => l.text).join("\n");

/** The ids of the runs this file started (each run's cgroups are named by its id). */
const started: string[] = [];

/** No cgroup of a run this file started is left (other test files' runs may be going at the same time). */
function noRunCgroupsLeft(): void {
  for (const controller of ["memory", "pids"]) {
    const root = `/sys/fs/cgroup/${controller}/weft-nix`;
    const groups = existsSync(root) ? readdirSync(root).filter((g) => /^[0-9a-f]{16}$/.test(g)) : [];
    const left = started.filter((id) => groups.some((g) => existsSync(join(root, g, id))));
    assert.deepEqual(left, [], controller);
  }
}

describe("nix runner", { timeout: 300_000 }, () => {
  before(async () => {
    const made = await nixPlugin.create(nixPlugin.parseConfig({ max_processes: 64 }), {
      stateDir,
      log: quiet,
    });
    if ("unavailable" in made) throw new Error(`nix must run here for these tests (.ci/setup): ${made.unavailable}`);
    runner = made;
    source = await storeProject(writeProject({ ...WORDS_PROJECT, ...HOSTILE }), store);
  });
  after(async () => {
    await runner?.close();
    rmSync(outside, { recursive: true, force: true });
    rmSync(stateDir, { recursive: true, force: true });
    removeProjects();
  });

  it("builds a .nix file: log streamed while it runs, outputs described exactly, derivation recorded", async () => {
    const { result, lines, firstLineBeforeEnd } = await run(nixSpec(source, "default.nix"));
    assert.equal(result.status, "succeeded", result.reason);
    assert.ok(firstLineBeforeEnd);
    assert.match(text(lines), /counted 12 words/);
    assert.deepEqual(result.outputs.map((o) => o.path), [
      "out/share/count",
      "out/share/notes.txt",
      "out/share/poem.txt",
    ]);
    for (const o of result.outputs) {
      const bytes = store.blocks.get(o.cid)!;
      assert.equal(bytes.length, o.size);
      assert.equal(createHash("sha256").update(bytes).digest("hex"), o.sha256);
    }
    assert.equal(store.text(result.outputs[2].cid), "SO MUCH DEPENDS\nUPON\nA RED WHEEL\nBARROW\n");
    assert.equal(store.text(result.outputs[0].cid).trim(), "12");
    const materials = result.build!.materials;
    assert.match(materials[0].uri!, /^\/nix\/store\/[a-z0-9]{32}-words\.drv$/);
    assert.equal(materials[1].name, "nix-output:out");
    assert.match(materials[1].digest!["nar-sha256"], /^[0-9a-f]{64}$/);
  });

  it("builds a flake output to the same derivation, and runs a command in the flake's dev shell", async () => {
    const file = await run(nixSpec(source, "default.nix"));
    const flake = await run(nixSpec(source, "#default"));
    assert.equal(flake.result.status, "succeeded", flake.result.reason);
    assert.deepEqual(flake.result.build, file.result.build);
    const shell = await run(nixSpec(source, "develop#default", {
      args: ["sh", "-c", 'echo "in the shell of $name"; wc -l < src/poem.txt > "$WEFT_OUT/lines"'],
    }));
    assert.equal(shell.result.status, "succeeded", `${shell.result.reason}\n${text(shell.lines)}`);
    assert.match(text(shell.lines), /in the shell of shell/);
    assert.deepEqual(shell.result.outputs.map((o) => [o.path, store.text(o.cid).trim()]), [["lines", "4"]]);
  });

  it("reports a nondeterministic derivation when asked to check, with the output that differs", async () => {
    const { result, lines } = await run(nixSpec(source, "random.nix", { args: ["--check"] }));
    assert.equal(result.status, "failed");
    assert.deepEqual(result.build?.rebuild, { identical: false, differing: ["out"] });
    assert.match(result.reason!, /not reproducible/);
    assert.match(text(lines), /may not be deterministic/);
    const same = await run(nixSpec(source, "default.nix", { args: ["--check"] }));
    assert.equal(same.result.status, "succeeded", same.result.reason);
    assert.deepEqual(same.result.build?.rebuild, { identical: true, differing: [] });
  });

  it("stops a build whose log passes the output limit", async () => {
    const chatty = await run(
      nixSpec(source, "chatty.nix", { limits: { wallMs: 60_000, memoryMb: 256, outputBytes: 100_000 } }),
    );
    assert.equal(chatty.result.status, "output-limit");
    assert.ok(text(chatty.lines).length <= 100_000);
    noRunCgroupsLeft();
  });

  it("gives builds no network: even a fixed-output derivation reaches nothing on the host", async () => {
    let connections = 0;
    const server = createServer((s) => {
      connections++;
      s.end("HTTP/1.0 200 OK\r\n\r\nhello");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    const fod = `derivation {
  name = "fetch"; system = builtins.currentSystem;
  builder = "\${builtins.path { path = ./bb; name = "busybox"; }}/sh"; PATH = "\${builtins.path { path = ./bb; name = "busybox"; }}";
  args = [ "-c" "wget -O $out http://127.0.0.1:${port}/ || nc 127.0.0.1 ${port} > $out" ];
  outputHashMode = "flat"; outputHashAlgo = "sha256";
  outputHash = "${createHash("sha256").update("hello").digest("hex")}";
}`;
    const netSource = await storeProject(writeProject({ ...WORDS_PROJECT, "fetch.nix": fod }), store);
    const { result } = await run(nixSpec(netSource, "fetch.nix"));
    server.close();
    assert.equal(result.status, "failed");
    assert.equal(connections, 0);
    const refused = await run(nixSpec(source, "default.nix", { network: true }));
    assert.equal(refused.result.status, "error");
    assert.match(refused.result.reason!, /offline/);
  });

  it("keeps builds and dev-shell commands from reading or writing outside their tree", async () => {
    const build = await run(nixSpec(source, "outside.nix"));
    assert.doesNotMatch(text(build.lines), /THE-HOST-SECRET|WROTE/);
    assert.equal(existsSync(escapee), false);
    const shell = await run(nixSpec(source, "develop#default", {
      args: ["sh", "-c", `cat ${secret} /etc/shadow; echo x > ${escapee} && echo WROTE; ls /root; true`],
    }));
    assert.equal(shell.result.status, "succeeded", shell.result.reason);
    assert.doesNotMatch(text(shell.lines), /THE-HOST-SECRET|root:x:|WROTE/);
    assert.equal(existsSync(escapee), false);
  });

  it("refuses a spec it must not run, before running anything", async () => {
    const cases: [Partial<RunSpec>, RegExp][] = [
      [{ program: "../escape.nix" }, /".." part/],
      [{ program: "default.nix#--option" }, /not an attribute path/],
      [{ env: [{ name: "NIX_CONF_DIR", value: "/tmp" }] }, /reserved/],
      [{ args: ["--option", "sandbox", "false"] }, /no arguments but "--check"/],
    ];
    for (const [over, reason] of cases) {
      const { result } = await run(nixSpec(source, "default.nix", over));
      assert.equal(result.status, "error");
      assert.match(result.reason!, reason);
    }
    const { result } = await run({ ...nixSpec(source, "default.nix"), source: undefined });
    assert.match(result.reason!, /source tree/);
  });

  it("clears the cgroups (and processes) a crashed runner with the same state left", async () => {
    const group = createHash("sha256").update(stateDir).digest("hex").slice(0, 16);
    const sleeper = spawn("sleep", ["600"], { stdio: "ignore" });
    const exited = new Promise((r) => sleeper.once("exit", (_code, signal) => r(signal)));
    for (const controller of ["memory", "pids"]) {
      const dir = `/sys/fs/cgroup/${controller}/weft-nix/${group}/left-by-a-crash`;
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, "cgroup.procs"), String(sleeper.pid));
    }
    const again = await nixPlugin.create(nixPlugin.parseConfig({ max_processes: 64 }), { stateDir, log: quiet });
    assert.ok(!("unavailable" in again));
    assert.equal(await exited, "SIGKILL");
    for (const controller of ["memory", "pids"]) {
      assert.equal(existsSync(`/sys/fs/cgroup/${controller}/weft-nix/${group}/left-by-a-crash`), false, controller);
    }
    await again.close();
  });

  it("runs a build in the first process made before it, in its groups renamed for the run", async () => {
    const group = nixPaths(parseNixConfig({}), stateDir).cgroupGroup;
    const dir = (controller: string) => `/sys/fs/cgroup/${controller}/weft-nix/${group}`;
    const pidsOf = (d: string) => readFileSync(join(d, "cgroup.procs"), "utf8").split("\n").filter(Boolean);
    /** The one spare's pid, once the runner made it (it makes one after each run). */
    const spare = () =>
      eventually(
        () => {
          const spares = readdirSync(dir("memory")).filter((n) => n.startsWith("spare-"));
          assert.equal(spares.length, 1);
          const [pid] = pidsOf(join(dir("memory"), spares[0]));
          assert.ok(pid);
          assert.deepEqual(pidsOf(join(dir("pids"), spares[0])), [pid], "in both groups");
          return pid;
        },
        30_000,
        "the runner's spare",
      );
    // A run first: the runner makes the next run's spare once a run ends (an earlier test's second runner on the
    // same state dir cleared this one's groups, spare included).
    assert.equal((await run(nixSpec(source, "default.nix"))).result.status, "succeeded");
    const before = await spare();
    const limits = { wallMs: 60_000, memoryMb: 300, outputBytes: 1 << 20 };
    const handle = runner.start(nixSpec(source, "sleepy.nix", { limits }), store);
    started.push(handle.id);
    for await (const line of handle.logs) {
      if (line.text !== "awake") continue;
      // nix was exec'd by the spare's shell: the same pid, in the same groups, now named by the run.
      assert.ok(pidsOf(join(dir("memory"), handle.id)).includes(before), "the run's nix is the spare's process");
      assert.ok(pidsOf(join(dir("pids"), handle.id)).includes(before));
      assert.equal(
        readFileSync(join(dir("memory"), handle.id, "memory.limit_in_bytes"), "utf8").trim(),
        `${300 << 20}`,
      );
      break;
    }
    const result = await handle.done;
    assert.equal(result.status, "succeeded", result.reason);
    assert.notEqual(await spare(), before, "a new spare for the next run");
    noRunCgroupsLeft();
  });

  it("still runs a good job after all that", async () => {
    const { result } = await run(nixSpec(source, "default.nix"));
    assert.equal(result.status, "succeeded", result.reason);
    assert.equal(result.outputs.length, 3);
    noRunCgroupsLeft();
  });
});
