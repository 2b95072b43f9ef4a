/**
 * A repository's test spec for `weft ci-adapter`: `.weft/ci.json` at the
 * commit under test, naming a WASM component in the repository and how to
 * run it:
 *
 *     { "program": "ci/tests.wasm", "args": ["input.txt"],
 *       "inputs": { "input.txt": "README.md" }, "timeout": "10m", "memory": 512 }
 *
 * `inputs` maps a path the run sees to a file of the repository. Read from
 * the git objects (no checkout), every field checked and bounded.
 */
import { RadicleMalformed } from "./errors.ts";
import type { GitRepo } from "./git-plumbing.ts";

export const CI_SPEC_PATH = ".weft/ci.json";

export interface CiSpec {
  /** Repository path of the component. */
  program: string;
  args: string[];
  /** Run path → repository path. */
  inputs: [string, string][];
  /** Seconds. */
  timeout: number;
  memoryMb: number;
}

const PATH = /^(?!\/)(?!.*(^|\/)\.\.?(\/|$))[^\0\n]{1,256}$/;
const KEYS = ["program", "args", "inputs", "timeout", "memory"];

function duration(text: unknown): number {
  if (text === undefined) return 600;
  const m = typeof text === "string" ? /^(\d{1,6})(s|m|h)$/.exec(text) : null;
  if (!m) throw new RadicleMalformed(CI_SPEC_PATH, "timeout must be like 90s, 10m or 1h");
  return Number(m[1]) * { s: 1, m: 60, h: 3600 }[m[2] as "s" | "m" | "h"];
}

export function parseCiSpec(text: string): CiSpec {
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(text);
  } catch {
    throw new RadicleMalformed(CI_SPEC_PATH, "is not JSON");
  }
  if (!v || typeof v !== "object" || Array.isArray(v)) throw new RadicleMalformed(CI_SPEC_PATH, "is not a JSON object");
  for (const k of Object.keys(v)) {
    if (!KEYS.includes(k)) {
      throw new RadicleMalformed(CI_SPEC_PATH, `has unknown key ${JSON.stringify(k)} (it has: ${KEYS.join(", ")})`);
    }
  }
  if (typeof v.program !== "string" || !PATH.test(v.program)) {
    throw new RadicleMalformed(CI_SPEC_PATH, "program must be a relative path in the repository");
  }
  const args = v.args ?? [];
  if (!Array.isArray(args) || args.length > 256 || !args.every((a) => typeof a === "string" && a.length <= 4096)) {
    throw new RadicleMalformed(CI_SPEC_PATH, "args must be a list of at most 256 strings");
  }
  const inputs = Object.entries(v.inputs ?? {});
  if (typeof v.inputs !== "undefined" && (typeof v.inputs !== "object" || Array.isArray(v.inputs))) {
    throw new RadicleMalformed(CI_SPEC_PATH, "inputs must map run paths to repository paths");
  }
  if (inputs.length > 256 || !inputs.every(([k, p]) => PATH.test(k) && typeof p === "string" && PATH.test(p))) {
    throw new RadicleMalformed(CI_SPEC_PATH, "inputs must map run paths to repository paths (relative, no ..)");
  }
  const memory = v.memory ?? 512;
  if (typeof memory !== "number" || !Number.isInteger(memory) || memory < 1 || memory > 1024 * 1024) {
    throw new RadicleMalformed(CI_SPEC_PATH, "memory must be whole megabytes");
  }
  return {
    program: v.program,
    args: args as string[],
    inputs: inputs as [string, string][],
    timeout: duration(v.timeout),
    memoryMb: memory,
  };
}

/** The spec at `commit`, or a clear error when the repository has none there. */
export async function readCiSpec(repo: GitRepo, commit: string): Promise<CiSpec> {
  const text = await repo.run(["cat-file", "blob", `${commit}:${CI_SPEC_PATH}`]).catch(() => {
    throw new RadicleMalformed(
      `commit ${commit}`,
      `has no ${CI_SPEC_PATH}: add one naming the WASM test component to run`,
    );
  });
  if (text.length > 64 * 1024) throw new RadicleMalformed(CI_SPEC_PATH, "is larger than 64 KiB");
  return parseCiSpec(text.toString("utf8"));
}

/** A file of the repository at `commit`. */
export async function readFileAt(repo: GitRepo, commit: string, path: string): Promise<Buffer> {
  return await repo.run(["cat-file", "blob", `${commit}:${path}`]).catch(() => {
    throw new RadicleMalformed(`commit ${commit}`, `has no file ${path} (named by ${CI_SPEC_PATH})`);
  });
}
