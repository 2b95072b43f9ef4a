/**
 * What a Nix run spec asks for, read from its `program` and `args` and
 * checked before anything runs: a build of a flake output or a `.nix`
 * file in the run's source (optionally rebuilt once to check it is
 * deterministic), or a command inside a flake's dev shell. Returns the
 * installable as nix's own arguments; nothing from the spec reaches a
 * command line unchecked (no option injection, no path outside the source).
 */
import { WeftError } from "#protocol";
import { checkSourcePath, type RunSpec } from "#protocol/runner";

export type NixProgram =
  | { mode: "build"; installable: string[]; label: string; check: boolean }
  | { mode: "develop"; installable: string[]; label: string; command: string[] };

/** An attribute path: dot-separated Nix identifiers, never starting with "-". */
const ATTR_PATH = /^[A-Za-z_][A-Za-z0-9_'-]*(\.[A-Za-z_][A-Za-z0-9_'-]*)*$/;

/** Environment names a spec may not set: they would reconfigure nix itself or its sandbox. */
const RESERVED_ENV = /^(NIX_.*|XDG_.*|PATH|HOME|TMPDIR|TMP|TEMP|USER|LD_.*)$/;

function refused(message: string): WeftError {
  return new WeftError("InvalidSpec", "runner/spec-invalid", message);
}

function attr(value: string, what: string): string {
  if (!ATTR_PATH.test(value)) {
    throw refused(`${what} ${JSON.stringify(value)} is not an attribute path like packages.x86_64-linux.default`);
  }
  return value;
}

/**
 * The installable for `#<output>` (a flake output) or `<file>.nix[#<attr>]`, rooted at `sourceDir`. A flake's
 * lock file is never written back: a build's source is a cached tree shared by every build of its CID.
 */
function installable(ref: string, sourceDir: string): string[] {
  if (ref.startsWith("#")) {
    return ["--no-write-lock-file", `path:${sourceDir}#${attr(ref.slice(1), "the flake output")}`];
  }
  const [file, at, ...rest] = ref.split("#");
  if (rest.length > 0 || !file.endsWith(".nix")) {
    throw refused(`program ${JSON.stringify(ref)}: name a flake output (#default) or a .nix file (build.nix#attr)`);
  }
  checkSourcePath(file);
  return ["--file", `${sourceDir}/${file}`, ...(at !== undefined ? [attr(at, "the attribute")] : [])];
}

/**
 * Reads a nix spec: `program` is `#<output>` or `<file>.nix[#<attr>]` (build; `args` empty, or `["--check"]` to
 * rebuild once and compare), or `develop#<shell>` (`args` is the command to run inside that dev shell). The source
 * tree is where `sourceDir` says for the mode (builds and dev shells keep it in different places).
 */
export function parseNixProgram(spec: RunSpec, sourceDir: (mode: NixProgram["mode"]) => string): NixProgram {
  if (!spec.source) throw refused("a nix run builds from a source tree: give the spec a source (weft run <dir>)");
  if (spec.network === true) throw refused("nix runs build offline; a spec asking for network cannot run on nix");
  if (spec.editor === true) throw refused('spec.editor is honoured by the "kubernetes" runner only; drop it');
  for (const e of spec.env) {
    if (RESERVED_ENV.test(e.name)) throw refused(`environment variable ${e.name} is reserved on nix runs; rename it`);
  }
  if (spec.program.startsWith("develop#")) {
    if (spec.args.length === 0) throw refused("develop#<shell> needs the command to run in args");
    const shell = spec.program.slice("develop".length);
    return {
      mode: "develop",
      installable: installable(shell, sourceDir("develop")),
      label: spec.program,
      command: spec.args,
    };
  }
  if (spec.args.length > 1 || (spec.args.length === 1 && spec.args[0] !== "--check")) {
    throw refused(`a nix build takes no arguments but "--check"; got ${JSON.stringify(spec.args)}`);
  }
  return {
    mode: "build",
    installable: installable(spec.program, sourceDir("build")),
    label: spec.program,
    check: spec.args[0] === "--check",
  };
}
