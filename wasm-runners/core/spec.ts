/**
 * Checks a run spec for the WebAssembly runner: the common shape
 * (`runSpecShape`), then what only this runner cares about — it is a "wasm"
 * spec, it asks for no network (a WebAssembly job never gets one), its CIDs
 * parse, and its inputs and environment do not contradict themselves.
 */
import { CID } from "#protocol/codec";
import { WeftError } from "#protocol";
import { type RunSpec, runSpecShape } from "#protocol/runner";
import { InvalidInput } from "#protocol/schema";

function checkCid(text: string, field: string): void {
  let cid: CID;
  try {
    cid = CID.parse(text);
  } catch {
    throw new InvalidInput(field, "must be a CID (as the content store returns from put)");
  }
  if (cid.version !== 1 || cid.multihash.code !== 0x12) {
    throw new InvalidInput(field, "must be a CIDv1 with a sha2-256 multihash");
  }
}

/** The spec, checked; throws InvalidInput (or a WeftError) saying what to change. */
export function checkWasmSpec(spec: unknown): RunSpec {
  const s = checkCommonSpec(spec);
  if (s.runner !== "wasm") {
    throw new WeftError(
      "InvalidInput",
      "runner/wrong-kind",
      `spec.runner is "${s.runner}" but this is the "wasm" runner; give the spec to a "${s.runner}" runner`,
    );
  }
  if (s.network) {
    throw new WeftError(
      "InvalidInput",
      "runner/network-unavailable",
      "spec.network is true, but WebAssembly jobs never get a network; set it to false, or use a container runner",
    );
  }
  checkCid(s.program, "spec.program");
  wallClockSeconds(s);
  return s;
}

/**
 * What every runner checks of a spec: its shape, input CIDs that parse,
 * input paths that do not collide, and no variable given twice.
 */
export function checkCommonSpec(spec: unknown): RunSpec {
  const s = runSpecShape(spec, "spec");
  const files = new Set<string>();
  s.inputs.forEach((input, i) => {
    checkCid(input.cid, `spec.inputs[${i}].cid`);
    if (input.path.split("/").includes("")) {
      throw new InvalidInput(`spec.inputs[${i}].path`, "must not start or end with / or contain //");
    }
    if (files.has(input.path)) throw new InvalidInput(`spec.inputs[${i}].path`, "names a path given twice");
    files.add(input.path);
  });
  for (const [i, input] of s.inputs.entries()) {
    const parts = input.path.split("/");
    for (let n = 1; n < parts.length; n++) {
      if (files.has(parts.slice(0, n).join("/"))) {
        throw new InvalidInput(`spec.inputs[${i}].path`, `is inside ${parts.slice(0, n).join("/")}, which is a file`);
      }
    }
  }
  if (s.editor === true && s.runner !== "kubernetes") {
    throw new InvalidInput("spec.editor", 'is honoured by the "kubernetes" runner only; drop it or run on a cluster');
  }
  const names = new Set<string>();
  s.env.forEach((e, i) => {
    if (names.has(e.name)) throw new InvalidInput(`spec.env[${i}].name`, "names a variable given twice");
    names.add(e.name);
  });
  return s;
}

/**
 * What the job's wall clock reads: SOURCE_DATE_EPOCH from its env (the
 * reproducible-builds convention), or 0.
 */
export function wallClockSeconds(spec: RunSpec): number {
  const value = spec.env.find((e) => e.name === "SOURCE_DATE_EPOCH")?.value;
  if (value === undefined) return 0;
  if (!/^\d{1,15}$/.test(value)) {
    throw new InvalidInput("spec.env SOURCE_DATE_EPOCH", "must be a whole number of seconds since 1970");
  }
  return Number(value);
}
