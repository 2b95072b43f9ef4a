/**
 * Nix projects for the runner's tests and bench, built without nixpkgs:
 * each source tree carries a busybox-static tree (`bb/`: the binary as `sh`
 * plus one symlink per applet, imported with builtins.path) as its builders'
 * only tools. A project is packed as a run's source (protocol/runner/source.ts).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { packSource, type RunSpec } from "../../protocol/runner/index.ts";
import { readDirectoryTree } from "../../peer/source/tree.ts";

export const BUSYBOX = "/bin/busybox";

/** The `mk` helper every project's Nix files share: a derivation whose builder is busybox's sh. */
const LIB = `{ system ? builtins.currentSystem }:
let bb = builtins.path { path = ./bb; name = "busybox"; };
in {
  inherit bb;
  mk = name: script: derivation {
    inherit name system;
    builder = "\${bb}/sh";
    PATH = "\${bb}";
    args = [ "-c" script ];
  };
}
`;

/** Every directory writeProject made in this process, for removeProjects. */
const written: string[] = [];

/** Removes every project this process wrote (call it from a test file's `after`). */
export function removeProjects(): void {
  for (const dir of written.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** Writes a project: `files` (path → text) beside lib.nix and the busybox tree. Returns its directory. */
export function writeProject(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "weft-nix-project-"));
  written.push(dir);
  mkdirSync(join(dir, "bb"));
  writeFileSync(join(dir, "bb", "sh"), readFileSync(BUSYBOX), { mode: 0o755 });
  const applets = execFileSync(BUSYBOX, ["--list"], { encoding: "utf8" }).split("\n").filter((a) => a && a !== "sh");
  for (const applet of applets) symlinkSync("sh", join(dir, "bb", applet));
  writeFileSync(join(dir, "lib.nix"), LIB);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

/** The small "real" project: a word-count report and an upper-cased copy computed from its source files. */
export const WORDS_PROJECT: Record<string, string> = {
  "src/poem.txt": "so much depends\nupon\na red wheel\nbarrow\n",
  "src/notes.txt": "glazed with rain\nwater\n",
  "default.nix": `{ system ? builtins.currentSystem }:
let lib = import ./lib.nix { inherit system; }; src = builtins.path { path = ./src; name = "src"; };
in lib.mk "words" ''
  echo "transforming \${src}"
  mkdir -p $out/share
  for f in \${src}/*.txt; do tr a-z A-Z < $f > $out/share/$(basename $f); done
  cat \${src}/*.txt | wc -w > $out/share/count
  echo "counted $(cat $out/share/count) words"
''
`,
  "random.nix": `(import ./lib.nix {}).mk "random" "head -c 16 /dev/urandom > $out; echo wrote random bytes"`,
  "flake.nix": `{
  outputs = { self }: let
    system = "x86_64-linux";
    lib = import ./lib.nix { inherit system; };
  in {
    packages.\${system}.default = import ./default.nix { inherit system; };
    devShells.\${system}.default = derivation {
      name = "shell"; inherit system; builder = "/bin/bash"; outputs = [ "out" ];
      PATH = "\${lib.bb}"; args = [ "-c" "touch $out" ];
    };
  };
}
`,
};

/** Packs a project directory, stores it, and returns the spec's `source`. */
export async function storeProject(
  dir: string,
  store: { put(b: Uint8Array): Promise<string> },
): Promise<{ cid: string }> {
  return { cid: await store.put(packSource(await readDirectoryTree(dir))) };
}

/** A nix spec for `program` on `source` with generous defaults. */
export function nixSpec(source: { cid: string }, program: string, over: Partial<RunSpec> = {}): RunSpec {
  return {
    runner: "nix",
    program,
    args: [],
    inputs: [],
    env: [],
    limits: { wallMs: 60_000, memoryMb: 512, outputBytes: 16 * 1024 * 1024 },
    source,
    ...over,
  };
}
