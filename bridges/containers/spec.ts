/**
 * Checks a run spec for the container runner: the common shape and inputs
 * (shared with every runner), then what only containers care about — it is
 * a "container" spec and its program names an image by digest
 * (`sha256:<hex>` of the OCI archive, as `weft image import` prints it).
 * Network is allowed by the spec here; whether the submitter may have it is
 * the scheduler's check against their capability, made before the run.
 */
import { WeftError } from "#protocol";
import type { RunSpec } from "#protocol/runner";
import { InvalidInput } from "#protocol/schema";
import { checkCommonSpec } from "../../wasm-runners/core/spec.ts";
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
  if (!SHA256_DIGEST.test(s.program)) {
    throw new InvalidInput(
      "spec.program",
      "must name the image by digest, sha256:<64 lowercase hex> (what `weft image import` prints)",
    );
  }
  return s;
}
