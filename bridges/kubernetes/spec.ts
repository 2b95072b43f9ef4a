/**
 * Checks a run spec for the kubernetes runner: the common shape (shared
 * with every runner), then what a Job can carry — it is a "kubernetes"
 * spec and its program is an image reference the cluster can pull. Input
 * files and a source tree are accepted only where Jobs may land on Weft
 * virtual nodes: those run pods on the mesh's container runners, which read
 * inputs from the mesh's store; a kubelet node has no way to receive them.
 */
import { WeftError } from "#protocol";
import type { RunSpec } from "#protocol/runner";
import { InvalidInput } from "#protocol/schema";
import { checkCommonSpec } from "../../wasm-runners/core/spec.ts";
import type { KubernetesConfig } from "./config.ts";

/** An OCI image reference: registry/name[:tag][@sha256:…], or a bare sha256: digest (a Weft-held image). */
const IMAGE = /^(sha256:[0-9a-f]{64}|[a-z0-9]([a-z0-9._\-/:]{0,254}[a-z0-9])?(@sha256:[0-9a-f]{64})?)$/;

export function checkKubernetesSpec(
  spec: unknown,
  config: Pick<KubernetesConfig, "tolerateVirtualNodes" | "editorImage">,
): RunSpec {
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
  if ((s.inputs.length > 0 || s.source) && !config.tolerateVirtualNodes) {
    throw new InvalidInput(
      "spec.inputs",
      "must be empty and spec.source absent on this cluster: only pods on Weft virtual nodes receive files " +
        "from the mesh's store, and this runner's Jobs do not go there (tolerate_virtual_nodes = false); " +
        "bake them into the image, or run the job on a container runner",
    );
  }
  if (s.editor === true && !s.source) {
    throw new InvalidInput("spec.editor", "needs spec.source: the editor shows the run's working tree");
  }
  if (s.editor === true && !config.editorImage) {
    throw new InvalidInput(
      "spec.editor",
      "cannot be honoured on this cluster: its bridge names no code-server image (editor_image in [bridges.kubernetes])",
    );
  }
  return s;
}
