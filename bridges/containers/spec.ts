/**
 * Checks a run spec for the container runner: the common shape and inputs
 * (shared with every runner), then what only containers care about — it is
 * a "container" spec and its program names an image by digest
 * (`sha256:<hex>` of the OCI archive, or the archive's raw CID).
 * Network is allowed by the spec here; whether the submitter may have it is
 * the scheduler's check against their capability, made before the run.
 */
import { WeftError } from "#protocol";
import type { RunSpec } from "#protocol/runner";
import { InvalidInput } from "#protocol/schema";
import { checkCommonSpec } from "../../wasm-runners/core/spec.ts";
import { CID, RAW } from "#protocol/codec";
import { imageDigest } from "./image-cache.ts";
import { SHA256_DIGEST } from "./oci-layout.ts";

export function checkContainerSpec(spec: unknown): RunSpec {
  const s = checkCommonSpec(spec);
  if (s.runner !== "container") {
    throw new WeftError(
      "InvalidInput",
      "runner/wrong-kind",
      `spec.runner is "${s.runner}" but this is the "container" runner; give the spec to a "${s.runner}" runner`,
    );
  }
  imageOf(s.program);
  return s;
}

/**
 * The image digest (`sha256:<hex>` of its OCI archive) a spec's program
 * names: given as such, or as the archive's raw sha2-256 CID — what
 * `weft artifact put` prints — which is the same hash.
 */
export function imageOf(program: string): string {
  if (SHA256_DIGEST.test(program)) return program;
  const must =
    "must name the image by digest, sha256:<64 lowercase hex>, or by its archive's raw CID (weft artifact put)";
  let cid: CID;
  try {
    cid = CID.parse(program);
  } catch {
    throw new InvalidInput("spec.program", must);
  }
  if (cid.version !== 1 || cid.code !== RAW || cid.multihash.code !== 0x12) {
    throw new InvalidInput("spec.program", must);
  }
  return imageDigest(program);
}
