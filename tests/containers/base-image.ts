/**
 * The test base image: the OCI archive `.ci/setup` builds offline from a
 * Debian minbase rootfs (mmdebstrap, then podman import and save), read from
 * its cache. Tests that need it fail with the command to run when it is
 * missing, rather than skipping.
 */
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { createHash } from "node:crypto";
import type { RunSpec } from "../../protocol/runner/runner.ts";
import type { ShellSpec } from "../runners/contract.ts";

export const CONTAINERS_CACHE = process.env.WEFT_CONTAINERS_CACHE ??
  join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "weft", "containers");

export const BASE_IMAGE_PATH = join(CONTAINERS_CACHE, "base-image.oci.tar");

/** The base image's bytes and its digest (`sha256:<hex>` of the archive). */
export async function baseImage(): Promise<{ bytes: Uint8Array; digest: string }> {
  const bytes = await readFile(BASE_IMAGE_PATH).catch(() => {
    throw new Error(`the test base image ${BASE_IMAGE_PATH} is missing: run .ci/setup`);
  });
  return { bytes: new Uint8Array(bytes), digest: `sha256:${createHash("sha256").update(bytes).digest("hex")}` };
}

/**
 * Runs of bash on the base image for the runner contract's shell recipes,
 * for runner `kind` with `limits` unless a recipe says otherwise: the image
 * and the inputs are put in the contract's store first.
 */
export function baseImageShell(kind: string, limits: RunSpec["limits"]): ShellSpec {
  const image = baseImage();
  return (script, over = {}) => async ({ store }) => {
    await store.put((await image).bytes);
    return {
      runner: kind,
      program: (await image).digest,
      args: ["bash", "-c", script],
      inputs: await Promise.all(
        Object.entries(over.inputs ?? {}).map(async ([path, c]) => ({ path, cid: await store.add(c) })),
      ),
      env: [],
      limits: { ...limits, ...over.limits },
    };
  };
}
