/**
 * The source packing (protocol/runner/source.ts) and its files on disk
 * (peer/source/tree.ts): one tree gives one archive whatever its timestamps
 * or owners, system tar reads it, a git commit packs the same as its
 * checkout, hostile archives are refused before anything is written, and a
 * packed source is told from other blobs by its first block.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { looksLikePackedSource, packSource, readSource, type SourceEntry } from "../../protocol/runner/source.ts";
import { isWeftError } from "../../protocol/errors.ts";
import { readDirectoryTree, readGitTree, writeSourceTree } from "../../peer/source/tree.ts";

const text = (s: string) => new TextEncoder().encode(s);
const file = (path: string, body: string, executable = false): SourceEntry => ({
  path,
  kind: "file",
  executable,
  bytes: text(body),
});

function project(): string {
  const dir = mkdtempSync(join(tmpdir(), "weft-src-"));
  mkdirSync(join(dir, "src/lib"), { recursive: true });
  writeFileSync(join(dir, "src/main.c"), "int main(void) { return 0; }\n");
  writeFileSync(join(dir, "src/lib/util.h"), "#define X 1\n");
  writeFileSync(join(dir, "build.sh"), "#!/bin/sh\necho built\n", { mode: 0o755 });
  symlinkSync("src/main.c", join(dir, "main-link"));
  return dir;
}

const refuses = (archive: Uint8Array) =>
  assert.throws(() => readSource(archive), (e) => isWeftError(e, "runner/source-invalid"));

describe("source packing", () => {
  it("gives the same bytes for the same tree whatever its timestamps, and system tar lists it", async () => {
    const a = project();
    const b = project();
    utimesSync(join(b, "src/main.c"), new Date(2001, 1, 1), new Date(2001, 1, 1));
    const packedA = packSource(await readDirectoryTree(a));
    const packedB = packSource(await readDirectoryTree(b));
    assert.deepEqual(packedA, packedB);
    const tarFile = join(a, "..", `${a.split("/").pop()}.tar`);
    writeFileSync(tarFile, packedA);
    const listed = execFileSync("tar", ["-tvf", tarFile], { encoding: "utf8" });
    assert.match(listed, /-rwxr-xr-x 0\/0 +\d+ 1970-01-01 00:00 build\.sh/);
    assert.match(listed, /main-link -> src\/main\.c/);
    const names = execFileSync("tar", ["-tf", tarFile], { encoding: "utf8" }).trim().split("\n");
    assert.deepEqual(names, ["build.sh", "main-link", "src/lib/util.h", "src/main.c"]);
  });

  for (const inMemory of [false, true]) {
    it(
      `round-trips through disk: files, executable bits and symlinks (written ${
        inMemory ? "a slice per turn, as into a tmpfs" : "through the file-system threads"
      })`,
      async () => {
        const dir = project();
        // More entries than one slice, and a file past the size written outside the slices.
        for (let i = 0; i < 100; i++) symlinkSync("../src/main.c", join(dir, "src/lib", `link-${i}`));
        writeFileSync(join(dir, "big.bin"), new Uint8Array(200 * 1024).fill(7));
        const packed = packSource(await readDirectoryTree(dir));
        const out = join(mkdtempSync(join(tmpdir(), "weft-unpack-")), "tree");
        await writeSourceTree(out, readSource(packed), { inMemory });
        assert.equal(readFileSync(join(out, "src/lib/util.h"), "utf8"), "#define X 1\n");
        assert.equal(statSync(join(out, "build.sh")).mode & 0o777, 0o755);
        assert.equal(statSync(join(out, "src/main.c")).mode & 0o777, 0o644);
        assert.equal(readlinkSync(join(out, "main-link")), "src/main.c");
        assert.equal(readlinkSync(join(out, "src/lib/link-99")), "../src/main.c");
        assert.equal(statSync(join(out, "big.bin")).size, 200 * 1024);
        assert.deepEqual(packSource(await readDirectoryTree(out)), packed);
      },
    );
  }

  it("packs a git commit like its checkout and records the commit", async () => {
    const dir = project();
    const git = (...args: string[]) =>
      execFileSync("git", ["-C", dir, "-c", "user.name=t", "-c", "user.email=t@t", ...args], { encoding: "utf8" });
    git("init", "-q");
    git("add", "-A");
    git("commit", "-qm", "first");
    writeFileSync(join(dir, "uncommitted.txt"), "not in the commit\n");
    const { commit, entries } = await readGitTree(dir);
    assert.equal(commit, git("rev-parse", "HEAD").trim());
    const checkout = project();
    assert.deepEqual(packSource(entries), packSource(await readDirectoryTree(checkout)));
  });

  it("refuses paths with .., absolute paths and symlinks that leave the tree", () => {
    for (const path of ["../x", "a/../../x", "/etc/passwd", "a//b", "./a"]) {
      assert.throws(() => packSource([file(path, "x")]), (e) => isWeftError(e, "runner/source-invalid"), path);
    }
    for (const target of ["../../outside", "a/../../../x", "/etc/passwd"]) {
      assert.throws(
        () => packSource([{ path: "dir/link", kind: "symlink", target }]),
        (e) => isWeftError(e, "runner/source-invalid"),
        target,
      );
    }
    assert.doesNotThrow(() => packSource([{ path: "dir/link", kind: "symlink", target: "../sibling" }]));
    assert.throws(
      () => packSource([{ path: "dir", kind: "symlink", target: "other" }, file("dir/x", "through the link")]),
      /lies beneath dir/,
    );
    assert.throws(() => packSource([file("a", "1"), file("a", "2")]), /appears twice/);
    assert.throws(() => packSource([file("a", "1"), file("b", "2")], { maxEntries: 1, maxBytes: 10 }), /at most 1/);
    assert.throws(() => packSource([file("a", "12345")], { maxEntries: 5, maxBytes: 4 }), /at most 4 are allowed/);
  });

  it("tells a packed source by its first block, and an ordinary tar or other bytes from one", () => {
    const dir = project();
    const packed = packSource([file("a.txt", "a"), { path: "b", kind: "symlink", target: "a.txt" }]);
    assert.equal(looksLikePackedSource(packed.subarray(0, 512)), true);
    // What system tar writes (an image layer, an OCI archive) has times, owners and modes of its own.
    const tar = new Uint8Array(execFileSync("tar", ["-c", "-C", dir, "build.sh"]));
    assert.equal(looksLikePackedSource(tar), false);
    assert.equal(looksLikePackedSource(new Uint8Array(4096).fill(7)), false);
    assert.equal(looksLikePackedSource(packed.subarray(0, 511)), false, "less than a block");
    assert.equal(looksLikePackedSource(packSource([]).subarray(0, 512)), false, "an empty tree needs no unpacking");
  });

  it("refuses a hostile or non-canonical archive before writing anything", async () => {
    const good = packSource([file("a.txt", "hello"), file("b.sh", "echo", true)]);
    refuses(good.subarray(0, good.length - 512)); // no closing blocks
    refuses(good.subarray(0, 700)); // truncated mid-entry
    const mode = good.slice();
    mode.set(text("0000666"), 100); // a mode packSource never writes (checksum fixed below)
    fixChecksum(mode);
    refuses(mode);
    const swapped = packSource([file("z", "1")]);
    const unsorted = new Uint8Array([...swapped.subarray(0, 1024), ...good]); // z before a.txt
    refuses(unsorted);
    // Headers rewritten by hand (checksums valid): a path with "..", a symlink out of the tree.
    const escape = packSource([file("ab/c", "x")]);
    escape.set(text("../c"), 0);
    fixChecksum(escape);
    refuses(escape);
    const link = packSource([{ path: "l", kind: "symlink", target: "abcd" }]);
    link.set(text("/etc"), 157);
    fixChecksum(link);
    refuses(link);
    // What GNU tar writes (directories, times, owners) is not the canonical packing either.
    const dir = mkdtempSync(join(tmpdir(), "weft-hostile-"));
    writeFileSync(join(dir, "a.txt"), "hello");
    const gnu = execFileSync("tar", ["-C", dir, "--format=ustar", "-cf", "-", "a.txt"]);
    const out = join(dir, "tree");
    await assert.rejects(
      async () => await writeSourceTree(out, readSource(new Uint8Array(gnu))),
      (e) => isWeftError(e),
    );
    assert.equal(existsSync(out), false);
  });
});

function fixChecksum(block: Uint8Array): void {
  block.set(text("        "), 148);
  const sum = block.subarray(0, 512).reduce((a, b) => a + b, 0);
  block.set(text(sum.toString(8).padStart(6, "0") + "\0 "), 148);
}
