/**
 * Checks a run spec for the kubernetes runner: the common shape (shared
 * with every runner), then what a Job can carry — it is a "kubernetes"
 * spec, its program is an image reference the cluster can pull, and it
 * names no input files or source tree, which a pod on someone else's
 * cluster has no way to receive from this peer's store.
 */
import { WeftError } from "#protocol";
import type { RunSpec } from "#protocol/runner";
import { InvalidInput } from "#protocol/schema";
import { checkCommonSpec } from "../../wasm-runners/core/spec.ts";

/** An OCI image reference: registry/name[:tag][@sha256:…], or a bare sha256: digest (a Weft-held image). */
const IMAGE = /^(sha256:[0-9a-f]{64}|[a-z0-9]([a-z0-9._\-/:]{0,254}[a-z0-9])?(@sha256:[0-9a-f]{64})?)$/;

export function checkKubernetesSpec(spec: unknown): RunSpec {
  const s = checkCommonSpec(spec);
  if (s.runner !== "kubernetes") {
    throw new WeftError(
      "InvalidInput",
      "runner/wrong-kind",
      `spec.runner is "${s.runner}" but this is the "kubernetes" runner; give the spec to a "${s.runner}" runner`,
    );
  }
  if (!IMAGE.test(s.program)) {
    throw new InvalidInput(
      "spec.program",
      "must be an image reference (registry/name:tag, …@sha256:<hex>, or sha256:<hex> for a Weft-held image)",
    );
  }
  if (s.inputs.length > 0 || s.source) {
    throw new InvalidInput(
      "spec.inputs",
      "must be empty and spec.source absent: a Job's pod cannot receive files from this peer's store; " +
        "bake them into the image, or run the job on a container runner",
    );
  }
  return s;
}
