/**
 * The container runner end to end with real bubblewrap, and real podman
 * (with runc), on the real Debian base image: a good job streams its log and leaves outputs described
 * exactly; hostile jobs (fork bomb, memory hog, writes outside its outputs,
 * reads of the host, network attempts, a job that ignores SIGTERM, output
 * and log floods, a job that outlives its wall time) are stopped with the
 * right status and leave nothing behind — no processes, no cgroups, no
 * change to the cached image — after which the runner still serves good jobs.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, rmdir, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LogLine, RunHandle, RunResult, RunSpec } from "../../protocol/runner/runner.ts";
import { packSource } from "../../protocol/runner/source.ts";
import { containerPlugin } from "../../bridges/containers/plugin.ts";
import type { ContainerRunner } from "../../bridges/containers/runner.ts";
import { imageCid } from "../../bridges/containers/image-cache.ts";
import { podmanEnv } from "../../bridges/containers/podman-backend.ts";
import { runTool } from "../../bridges/containers/tool.ts";
import { MemoryContentStore } from "../helpers/content-store.ts";
import { baseImage } from "./base-image.ts";

const CGROUP_PARENT = `weft-test-${process.pid}`;
const LIMITS = { wallMs: 20_000, memoryMb: 64, outputBytes: 1 << 20 };
const quiet = { debug() {}, info() {}, warn() {} };

async function finish(handle: RunHandle): Promise<{ result: RunResult; logs: LogLine[]; text: string }> {
  const logs: LogLine[] = [];
  for await (const line of handle.logs) logs.push(line);
  const result = await handle.done;
  return { result, logs, text: logs.map((l) => l.text).join("\n") };
}

/** The whole suite against one isolation backend. */
function suite(backend: "bwrap" | "podman"): void {
  let store: MemoryContentStore;
  let runner: ContainerRunner;
  let state: string;
  let image: string;

  type SpecChanges = Omit<Partial<RunSpec>, "limits"> & { limits?: Partial<RunSpec["limits"]> };

  function spec(script: string, over: SpecChanges = {}): RunSpec {
    return {
      runner: "container",
      program: image,
      args: ["bash", "-c", script],
      inputs: [],
      env: [],
      ...over,
      limits: { ...LIMITS, ...over.limits },
    };
  }

  const run = (script: string, over: SpecChanges = {}) => finish(runner.start(spec(script, over), store));

  /** Processes whose command line names this test's state dir: none may outlive their run. */
  async function leftovers(): Promise<string[]> {
    const out: string[] = [];
    for (const pid of await readdir("/proc")) {
      if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
      const cmd = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
      if (cmd.includes(state)) out.push(`${pid}: ${cmd.replaceAll("\0", " ").slice(0, 120)}`);
    }
    return out;
  }

  async function cgroupsLeft(): Promise<string[]> {
    const left: string[] = [];
    for (const c of ["memory", "cpu", "pids"]) {
      const dir = `/sys/fs/cgroup/${c}/${CGROUP_PARENT}`;
      if (existsSync(dir)) {
        left.push(
          ...(await readdir(dir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => `${c}/${d.name}`),
        );
      }
    }
    return left;
  }

  async function assertClean(): Promise<void> {
    assert.deepEqual(await leftovers(), [], "no process of a finished run is left");
    // The bubblewrap backend keeps the next job's first process ready in groups of its own: not a finished run's.
    const runs = (await cgroupsLeft()).filter((g) => !/\/spare-[0-9a-f-]+$/.test(g));
    assert.deepEqual(runs, [], "no cgroup of a finished run is left");
    if (backend === "podman") {
      const env = await podmanEnv(join(state, "podman"));
      const r = await runTool("podman", ["ps", "--all", "--quiet"], { env });
      assert.equal(r.stdout.trim(), "", "no container of a finished run is left");
    }
  }

  describe(`container runner (${backend})`, { timeout: 600_000 }, () => {
    before(async () => {
      state = await mkdtemp(join(tmpdir(), "weft-containers-"));
      store = new MemoryContentStore();
      const base = await baseImage();
      image = base.digest;
      await store.put(base.bytes);
      const created = await containerPlugin.create(
        containerPlugin.parseConfig({ backend, cgroup_parent: CGROUP_PARENT, pids: 64, stop_grace_ms: 1000 }),
        { stateDir: state, log: quiet },
      );
      if ("unavailable" in created) {
        throw new Error(`containers cannot run here: ${created.unavailable}; run .ci/setup`);
      }
      runner = created as ContainerRunner;
    });

    after(async () => {
      await runner?.close();
      for (const c of ["memory", "cpu", "pids"]) await rmdir(`/sys/fs/cgroup/${c}/${CGROUP_PARENT}`).catch(() => {});
      await rm(state, { recursive: true, force: true });
    });

    it("advertises the isolation that really runs here", () => {
      assert.deepEqual(runner.advertise(), { isolation: backend });
    });

    it("runs a job: inputs read-only, logs streamed in order, outputs described exactly", async () => {
      const input = await store.add("hello from the input\n");
      const { result, logs } = await run(
        "cat /inputs/dir/a.txt; echo to-stderr >&2; printf 'made' > /outputs/o.txt; mkdir /outputs/sub; echo -n $GREETING > /outputs/sub/g",
        { inputs: [{ path: "dir/a.txt", cid: input }], env: [{ name: "GREETING", value: "hi there" }] },
      );
      assert.equal(result.status, "succeeded", JSON.stringify(result));
      assert.equal(result.exitCode, 0);
      assert.deepEqual(logs.filter((l) => l.stream !== "system").map((l) => [l.stream, l.text]), [
        ["stdout", "hello from the input"],
        ["stderr", "to-stderr"],
      ]);
      const sha = (s: string) => createHash("sha256").update(s).digest("hex");
      const byPath = Object.fromEntries(result.outputs.map((o) => [o.path, o]));
      assert.deepEqual(Object.keys(byPath).sort(), ["o.txt", "sub/g"]);
      assert.deepEqual({ ...byPath["o.txt"], cid: undefined }, {
        path: "o.txt",
        size: 4,
        sha256: sha("made"),
        cid: undefined,
      });
      assert.equal(store.text(byPath["o.txt"].cid), "made");
      assert.equal(store.text(byPath["sub/g"].cid), "hi there");
      assert.equal(byPath["sub/g"].sha256, sha("hi there"));
      await assertClean();
    });

    it("streams log lines while the job runs, not at the end", async () => {
      const handle = runner.start(spec("echo first; read -t 30 < /dev/null; sleep 30"), store);
      const it = handle.logs[Symbol.asyncIterator]();
      const first = await it.next();
      assert.equal((first.value as LogLine).text, "first");
      await handle.stop("seen enough");
      const result = await handle.done;
      assert.equal(result.status, "stopped");
      await assertClean();
    });

    it("reports a failing job with its exit code and its log", async () => {
      const { result, text } = await run("echo 'FAIL: widget test'; exit 7");
      assert.equal(result.status, "failed");
      assert.equal(result.exitCode, 7);
      assert.match(text, /FAIL: widget test/);
      assert.match(result.reason ?? "", /exited with code 7/);
    });

    it("cannot write outside its outputs: the image, its inputs and / are read-only, /tmp is private", async () => {
      const input = await store.add("original");
      const probe = `probe-${process.pid}`;
      const { result, text } = await run(
        `for f in /etc/${probe} /${probe} /usr/${probe} /inputs/a.txt; do (echo x > $f) 2>/dev/null && echo "WROTE $f" || echo "refused $f"; done
         echo tmp > /tmp/${probe} && echo "tmp ok"`,
        { inputs: [{ path: "a.txt", cid: input }] },
      );
      assert.equal(result.status, "succeeded", text);
      assert.doesNotMatch(text, /WROTE/);
      assert.match(text, /refused \/inputs\/a.txt/);
      assert.match(text, /tmp ok/);
      if (backend === "bwrap") {
        const rootfs = join(state, "images", image.slice(7), "rootfs");
        assert.ok(existsSync(join(rootfs, "etc", "passwd")), "the cached image is where the test looks");
        assert.ok(!existsSync(join(rootfs, "etc", probe)) && !existsSync(join(rootfs, "tmp", probe)));
      }
      assert.ok(!existsSync(join("/tmp", probe)), "the host's /tmp is not the job's");
    });

    it("cannot see the host's files", async () => {
      const secret = join(tmpdir(), `weft-secret-${process.pid}`);
      await writeFile(secret, "host secret");
      try {
        const { result, text } = await run(`cat ${secret} 2>&1 || echo "no such file"; ls /root | wc -l`);
        assert.equal(result.status, "succeeded");
        assert.doesNotMatch(text, /host secret/);
        assert.match(text, /no such file/);
      } finally {
        await rm(secret);
      }
    });

    it("has no network unless the spec allows it (and then it has)", async () => {
      let server: Server | undefined;
      const port = await new Promise<number>((resolve) => {
        server = createServer((s) => s.end("pong\n")).listen(
          0,
          "127.0.0.1",
          () => resolve((server!.address() as { port: number }).port),
        );
      });
      try {
        const attempt =
          `if exec 3<>/dev/tcp/127.0.0.1/${port}; then read -r line <&3; echo "got $line"; else echo "no route"; fi; cat /proc/net/dev | tail -n +3 | cut -d: -f1`;
        const closed = await run(attempt);
        assert.equal(closed.result.status, "succeeded");
        assert.doesNotMatch(closed.text, /got pong/);
        assert.match(closed.text, /no route/);
        assert.deepEqual(closed.logs.filter((l) => l.stream === "stdout").slice(1).map((l) => l.text.trim()), ["lo"]);
        const open = await run(attempt, { network: true });
        assert.match(
          open.text,
          /got pong/,
          "with network the same job reaches the host: the refusal above is the sandbox's",
        );
      } finally {
        server?.close();
      }
    });

    it("is stopped at its wall time, with its whole process tree", async () => {
      const started = Date.now();
      const { result } = await run("sleep 60 & sleep 60 & (trap '' TERM; sleep 60) & wait", {
        limits: { wallMs: 1500 },
      });
      assert.equal(result.status, "timeout");
      assert.match(result.reason ?? "", /1500 ms wall-time limit/);
      assert.ok(Date.now() - started < 15_000);
      await assertClean();
    });

    it("is killed when it ignores SIGTERM after a stop", async () => {
      const handle = runner.start(spec("trap 'echo got TERM' TERM; echo ready; while :; do sleep 0.1; done"), store);
      for await (const line of handle.logs) if (line.text === "ready") break;
      const started = Date.now();
      await handle.stop("evicted");
      const result = await handle.done;
      assert.equal(result.status, "stopped");
      assert.equal(result.reason, "evicted");
      assert.ok(Date.now() - started < 10_000, "the grace period ended in SIGKILL");
      await assertClean();
    });

    it("a memory hog is stopped at its memory limit", async () => {
      const { result } = await run("tail /dev/zero", { limits: { memoryMb: 32 } });
      assert.equal(result.status, "out-of-memory", JSON.stringify(result));
      await assertClean();
    });

    it("an OOM kill is reported even when the job outlives it and exits 0", async () => {
      const { result, text } = await run("tail /dev/zero; echo outlived it", { limits: { memoryMb: 32 } });
      assert.match(text, /outlived it/, "the shell ran on after its child was killed");
      assert.equal(result.status, "out-of-memory", JSON.stringify(result));
      await assertClean();
    });

    it("a fork bomb is held to its process limit, reported, and killed with everything it forked", async () => {
      const { result } = await run(":(){ :|:& };:; sleep 30", { limits: { wallMs: 3000 } });
      assert.equal(result.status, "timeout", JSON.stringify(result));
      assert.match(result.reason ?? "", /hit its process limit/);
      await assertClean();
    });

    it("a job whose forks were refused fails even when it exits 0", async () => {
      const { result, text } = await run(
        "(for i in $(seq 100); do sleep 1 & done; wait) 2>/dev/null; echo carried on",
        { limits: { wallMs: 20_000 } },
      );
      assert.match(text, /carried on/);
      assert.equal(result.status, "failed", JSON.stringify(result));
      assert.equal(result.reason, "exited with code 0 but hit its process limit");
      await assertClean();
    });

    it("is stopped while it writes past its output limit", async () => {
      const { result } = await run(
        "for i in $(seq 1 200); do head -c 100000 /dev/zero > /outputs/f$i; done; echo finished",
        { limits: { outputBytes: 500_000, wallMs: 20_000 } },
      );
      assert.equal(result.status, "output-limit", JSON.stringify(result));
      assert.deepEqual(result.outputs, []);
      const big = await run("head -c 2000000 /dev/zero > /outputs/big; echo wrote", {
        limits: { outputBytes: 500_000 },
      });
      assert.equal(big.result.status, "output-limit", "one file past the limit is cut off while written");
      await assertClean();
    });

    it("is stopped when its logs pass its output limit", async () => {
      const { result } = await run("yes flood", { limits: { outputBytes: 100_000 } });
      assert.equal(result.status, "output-limit");
      await assertClean();
    });

    it("runs a project's tests in its source tree and reports the failure with its log", async () => {
      const file = (path: string, text: string, executable = false) => ({
        path,
        kind: "file" as const,
        executable,
        bytes: new TextEncoder().encode(text),
      });
      const source = await store.put(packSource([
        file("lib/add.sh", "add() { echo $(( $1 - $2 )); }\n"),
        file(
          "test.sh",
          `#!/bin/bash\n. lib/add.sh\nfail=0\nfor c in "1 1 2" "2 3 5"; do set -- $c\n  got=$(add $1 $2); if [ "$got" = "$3" ]; then echo "ok add $1 $2"; else echo "FAIL add $1 $2: got $got, want $3"; fail=1; fi\ndone\necho built > /outputs/report.txt\nexit $fail\n`,
          true,
        ),
      ]));
      const { result, text } = await run("./test.sh", { source: { cid: source } });
      assert.equal(result.status, "failed");
      assert.equal(result.exitCode, 1);
      assert.match(text, /FAIL add 1 1: got 0, want 2/);
      assert.deepEqual(result.outputs.map((o) => o.path), ["report.txt"]);
    });

    it("refuses a spec that is not a container spec, or names no image digest, before running anything", () => {
      assert.throws(() => runner.start({ ...spec("true"), runner: "wasm" }, store), /"container" runner/);
      assert.throws(() => runner.start({ ...spec("true"), program: "debian:bookworm" }, store), /by digest/);
    });

    it("takes the image by its archive's raw CID too (what weft artifact put prints)", async () => {
      const cid = imageCid(image);
      const { result, text } = await finish(runner.start({ ...spec("echo by cid"), program: cid }, store));
      assert.equal(result.status, "succeeded", result.reason);
      assert.match(text, /by cid/);
      assert.throws(
        () =>
          runner.start(
            { ...spec("true"), program: "bafyreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy" },
            store,
          ),
        /raw CID/,
      );
    });

    it("fails plainly when the image is not in the store", async () => {
      const { result } = await finish(runner.start({ ...spec("true"), program: `sha256:${"0".repeat(64)}` }, store));
      assert.equal(result.status, "error");
      assert.match(result.reason ?? "", /not in the content store/);
    });

    it("keeps serving good jobs after all of that", async () => {
      const { result, text } = await run("echo still here");
      assert.equal(result.status, "succeeded");
      assert.match(text, /still here/);
      await assertClean();
    });

    it("removes its parent cgroups when it closes, once no job is in them", async () => {
      const parent = `${CGROUP_PARENT}-closing`;
      const made = await containerPlugin.create(
        containerPlugin.parseConfig({ backend, cgroup_parent: parent }),
        { stateDir: state, log: quiet }, // the same state: its image is unpacked (or loaded) already
      );
      assert.ok(!("unavailable" in made));
      const closing = made as ContainerRunner;
      assert.equal((await finish(closing.start(spec("true"), store))).result.status, "succeeded");
      const dirs = ["memory", "cpu", "pids"].map((c) => `/sys/fs/cgroup/${c}/${parent}`);
      assert.ok(dirs.every((d) => existsSync(d)), "the runner made its parents");
      await closing.close();
      assert.deepEqual(dirs.filter((d) => existsSync(d)), [], "no empty parent group is left behind");
    });
  });
}

suite("bwrap");
suite("podman");
