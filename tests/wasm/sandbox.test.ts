/**
 * The WebAssembly runner's parts, without a sandbox process: memory caps
 * written into core modules, the stdio framing of the Deno backend, the
 * job file system's rules, the checks on a run spec, and that core/ and
 * sandbox/ stay free of runtime APIs.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { parse } from "@bytecodealliance/jco";
import { capMemories } from "../../wasm-runners/core/memory-cap.ts";
import { encodeFrame, FrameDecoder } from "../../wasm-runners/core/frames.ts";
import { checkWasmSpec, wallClockSeconds } from "../../wasm-runners/core/spec.ts";
import { MAX_OUTPUT_ENTRIES, MAX_OUTPUT_NAME_BYTES } from "../../wasm-runners/core/output-limits.ts";
import { OutputBudget, OutputLimitExceeded } from "../../wasm-runners/sandbox/budget.ts";
import { jobFilesystem } from "../../wasm-runners/sandbox/filesystem.ts";
import { collectOutputs, inputTree } from "../../wasm-runners/sandbox/tree.ts";
import { isWeftError } from "../../protocol/errors.ts";
import { cidOf, RAW } from "../../protocol/codec/cid.ts";

const MiB = 2 ** 20;
const PAGE = 65536;

function memoryOf(bytes: Uint8Array): WebAssembly.Memory {
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>));
  return instance.exports.memory as WebAssembly.Memory;
}

function grows(memory: WebAssembly.Memory, pages: number): boolean {
  try {
    memory.grow(pages);
    return true;
  } catch {
    return false;
  }
}

describe("memory caps", () => {
  it("caps a memory without a maximum at the limit", async () => {
    const wasm = await parse(`(module (memory (export "memory") 1) (func (export "f")))`);
    const capped = capMemories([["m.wasm", wasm]], 4 * MiB).get("m.wasm")!;
    assert.deepEqual(capped.memories, [{ exportName: "memory", capBytes: 4 * MiB }]);
    const memory = memoryOf(capped.bytes);
    assert.ok(grows(memory, 63));
    assert.ok(!grows(memory, 1), "growing past 4 MiB fails");
    assert.deepEqual(WebAssembly.Module.exports(new WebAssembly.Module(capped.bytes as Uint8Array<ArrayBuffer>)), [
      { name: "memory", kind: "memory" },
      { name: "f", kind: "function" },
    ]);
  });

  it("keeps a smaller declared maximum", async () => {
    const wasm = await parse(`(module (memory (export "mem") 1 2))`);
    const capped = capMemories([["m.wasm", wasm]], 4 * MiB).get("m.wasm")!;
    assert.deepEqual(capped.memories, [{ exportName: "mem", capBytes: 2 * PAGE }]);
  });

  it("shares the limit between several memories, each keeping its minimum", async () => {
    const a = await parse(`(module (memory (export "memory") 10))`);
    const b = await parse(`(module (import "x" "y" (memory 1)) (memory 2) (memory (export "second") 4))`);
    const capped = capMemories([["a", a], ["b", b]], 64 * PAGE);
    const caps = [...capped.values()].flatMap((m) => m.memories);
    assert.deepEqual(caps.map((c) => c.capBytes / PAGE), [10 + 16, 2 + 16, 4 + 16]);
    assert.ok(caps.reduce((n, c) => n + c.capBytes, 0) <= 64 * PAGE);
    assert.deepEqual(capped.get("b")!.memories.map((m) => m.exportName), [undefined, "second"]);
  });

  it("refuses a component that needs more than the limit to start", async () => {
    const wasm = await parse(`(module (memory 100))`);
    assert.throws(() => capMemories([["m", wasm]], MiB), (e) => isWeftError(e, "wasm/memory-limit"));
  });

  it("refuses bytes that are not a module", () => {
    assert.throws(
      () => capMemories([["m", new Uint8Array([1, 2, 3])]], MiB),
      (e) => isWeftError(e, "wasm/malformed-module"),
    );
  });
});

describe("frames", () => {
  it("carry messages with byte arrays through arbitrary chunking", () => {
    const messages = [
      { type: "job", inputs: [["a", new Uint8Array([1, 2, 3])], ["b", new Uint8Array(70_000).fill(7)]], n: 1 },
      { type: "log", text: "héllo", at: 5 },
      { type: "done", outputs: [], nested: { x: [new Uint8Array(0)] } },
    ];
    const bytes = new Uint8Array(messages.flatMap((m) => [...encodeFrame(m)]));
    for (const size of [1, 3, 4096, bytes.length]) {
      const decoder = new FrameDecoder();
      const got: unknown[] = [];
      for (let at = 0; at < bytes.length; at += size) got.push(...decoder.push(bytes.subarray(at, at + size)));
      assert.deepEqual(got, messages);
    }
  });
});

describe("the job file system", () => {
  const text = (s: string) => new TextEncoder().encode(s);
  const setup = (limit = 1000) => {
    const budget = new OutputBudget(limit);
    const outputs = { dir: {} };
    const fs = jobFilesystem(inputTree([["a.txt", text("input")], ["d/b.txt", text("deep")]]), outputs, budget);
    const [[inputs, inName], [out, outName]] = fs.preopens.getDirectories();
    return { budget, outputs, inputs, out, inName, outName };
  };
  const code = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      return e;
    }
    return "ok";
  };
  const noFollow = { symlinkFollow: false };
  const follow = { symlinkFollow: true };

  it("preopens /inputs read-only and /outputs read-write", () => {
    const { inputs, out, inName, outName } = setup();
    assert.equal(inName, "/inputs");
    assert.equal(outName, "/outputs");
    assert.deepEqual(inputs.getFlags(), { read: true });
    assert.deepEqual(out.getFlags(), { read: true, write: true, mutateDirectory: true });
    const file = inputs.openAt(noFollow, "d/b.txt", {}, { read: true });
    assert.deepEqual(file.read(100n, 0n), [text("deep"), true]);
  });

  it("refuses every change under /inputs", () => {
    const { inputs } = setup();
    const file = inputs.openAt(noFollow, "a.txt", {}, { read: true });
    assert.equal(code(() => inputs.openAt(noFollow, "a.txt", {}, { write: true })), "read-only");
    assert.equal(code(() => inputs.openAt(noFollow, "new", { create: true }, { read: true })), "read-only");
    assert.equal(code(() => inputs.openAt(noFollow, "a.txt", { truncate: true }, { read: true })), "read-only");
    assert.equal(code(() => file.writeViaStream(0n)), "read-only");
    assert.equal(code(() => file.write(text("x"), 0n)), "read-only");
    assert.equal(code(() => file.setSize(0n)), "read-only");
    assert.equal(code(() => inputs.createDirectoryAt("x")), "read-only");
    assert.equal(code(() => inputs.unlinkFileAt("a.txt")), "read-only");
    assert.equal(code(() => inputs.symlinkAt("a.txt", "l")), "read-only");
    assert.deepEqual(file.read(100n, 0n), [text("input"), true]);
  });

  it("keeps paths inside their directory", () => {
    const { inputs, out } = setup();
    assert.equal(code(() => inputs.openAt(noFollow, "../outputs", {}, {})), "not-permitted");
    assert.equal(code(() => inputs.openAt(noFollow, "d/../../x", {}, {})), "not-permitted");
    assert.equal(code(() => inputs.openAt(noFollow, "/a.txt", {}, {})), "not-permitted");
    assert.equal(code(() => out.openAt(noFollow, "/x", { create: true }, { write: true })), "not-permitted");
    assert.equal(code(() => out.symlinkAt("/etc/passwd", "abs")), "not-permitted");
    out.symlinkAt("../../../etc/passwd", "rel");
    assert.equal(code(() => out.openAt(follow, "rel", {}, { read: true })), "not-permitted");
    assert.equal(code(() => out.renameAt("x", inputs, "y")), "read-only");
    assert.equal(code(() => inputs.linkAt()), "not-permitted");
    assert.equal(code(() => out.linkAt()), "not-permitted");
  });

  it("counts output bytes, gives back truncated ones, and stops at the limit", () => {
    const { out, budget, outputs } = setup(10);
    const file = out.openAt(noFollow, "f", { create: true }, { write: true });
    const stream = file.writeViaStream(0n);
    stream.checkWrite();
    stream.write(text("12345678"));
    out.openAt(noFollow, "f", { truncate: true }, { write: true });
    file.write(text("abcdefgh"), 0n);
    assert.throws(() => file.write(text("abc"), 8n), OutputLimitExceeded);
    assert.ok(budget.limit === 10);
    assert.deepEqual(collectOutputs(outputs).files, [["f", text("abcdefgh")]]);
  });

  it("counts entries and the bytes of their names, renames included", () => {
    const { out, budget } = setup(1 << 30);
    for (let i = 0; i < MAX_OUTPUT_ENTRIES; i++) out.openAt(noFollow, `${i}`, { create: true }, { write: true });
    assert.throws(
      () => out.createDirectoryAt("one-too-many"),
      (e) => e instanceof OutputLimitExceeded && /more than 10000 files/.test(e.message),
    );
    const named = setup(1 << 30).out;
    const long = "n".repeat(250);
    named.openAt(noFollow, "f", { create: true }, { write: true });
    assert.throws(() => {
      for (let i = 0; i < 10_000; i++) named.renameAt(i % 2 ? long : "f", named, i % 2 ? "f" : long);
    }, (e) => e instanceof OutputLimitExceeded && e.message.includes(`${MAX_OUTPUT_NAME_BYTES} bytes of paths`));
    assert.ok(budget.limit === 1 << 30);
  });

  it("collects regular files and reports symlinks", () => {
    const { out, outputs } = setup();
    out.createDirectoryAt("sub");
    out.openAt(noFollow, "sub/z.txt", { create: true }, { write: true }).write(text("z"), 0n);
    out.symlinkAt("sub/z.txt", "link");
    const { files, skipped } = collectOutputs(outputs);
    assert.deepEqual(files, [["sub/z.txt", text("z")]]);
    assert.deepEqual(skipped, ["output link is a symlink; not kept"]);
  });
});

describe("wasm run specs", () => {
  const cid = cidOf(new Uint8Array([1]), RAW).toString();
  const spec = (over: Record<string, unknown> = {}) => ({
    runner: "wasm",
    program: cid,
    args: [],
    inputs: [],
    env: [],
    limits: { wallMs: 1000, memoryMb: 16, outputBytes: 1000 },
    ...over,
  });
  const refused = (over: Record<string, unknown>, pattern: RegExp) =>
    assert.throws(() => checkWasmSpec(spec(over)), (e) => isWeftError(e) && pattern.test(e.message));

  it("accepts a good spec", () => {
    assert.equal(checkWasmSpec(spec()).program, cid);
  });

  it("refuses specs it cannot honour, saying what to change", () => {
    refused({ runner: "nix" }, /give the spec to a "nix" runner/);
    refused({ network: true }, /never get a network/);
    refused({ program: "not-a-cid" }, /spec.program must be a CID/);
    refused({ inputs: [{ path: "a", cid }, { path: "a", cid }] }, /spec.inputs\[1\].path names a path given twice/);
    refused({ inputs: [{ path: "a", cid }, { path: "a/b", cid }] }, /is inside a, which is a file/);
    refused({ inputs: [{ path: "../a", cid }] }, /spec.inputs\[0\].path must match/);
    refused({ inputs: [{ path: "a//b", cid }] }, /must not start or end with/);
    refused({ env: [{ name: "A", value: "1" }, { name: "A", value: "2" }] }, /names a variable given twice/);
  });

  it("grants the wall clock only as SOURCE_DATE_EPOCH", () => {
    assert.equal(wallClockSeconds(checkWasmSpec(spec())), 0);
    const granted = checkWasmSpec(spec({ env: [{ name: "SOURCE_DATE_EPOCH", value: "1700000000" }] }));
    assert.equal(wallClockSeconds(granted), 1700000000);
    refused({ env: [{ name: "SOURCE_DATE_EPOCH", value: "yesterday" }] }, /whole number of seconds/);
  });
});

describe("layering", () => {
  it("core/ and sandbox/ import no node:*, use no Deno.* and import nothing from the runtime folders", () => {
    const dir = new URL("../../wasm-runners/", import.meta.url);
    const bad: string[] = [];
    for (const folder of ["core", "sandbox"]) {
      for (const name of readdirSync(new URL(`${folder}/`, dir)).filter((n) => n.endsWith(".ts"))) {
        const text = readFileSync(new URL(`${folder}/${name}`, dir), "utf8");
        const code = text.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, "");
        for (const [, spec] of code.matchAll(/from\s+"([^"]+)"/g)) {
          if (spec.startsWith("node:") || /^\.\.\/(node|deno|browser|samples)\//.test(spec)) {
            bad.push(`${folder}/${name} imports ${spec}`);
          }
        }
        if (/\bDeno\./.test(code)) bad.push(`${folder}/${name} uses Deno.*`);
      }
    }
    assert.deepEqual(bad, []);
  });
});
