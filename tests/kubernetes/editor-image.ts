/**
 * The code-server image `.ci/setup` builds (setup_code_server_image) and the
 * container runner state the editor test keeps it unpacked in (~1 GB: an
 * unpack takes minutes on this machine, so it is done once, by .ci/setup
 * running this file, not in the kube step). Tests that need it fail with the
 * command to run when it is missing.
 */
import { mkdir, readFile } from "node:fs/promises";
import { createHash } from "node:crypto";
import { homedir } from "node:os";
import { join } from "node:path";
import { ImageCache } from "../../bridges/containers/image-cache.ts";
import { MemoryContentStore } from "../helpers/content-store.ts";

const CACHE = join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "weft", "code-server");
export const EDITOR_IMAGE_PATH = join(CACHE, `editor-image-4.139.1-node${process.versions.node}.oci.tar`);
/** The state dir of the editor test's container runner: its unpacked images persist here. */
export const EDITOR_RUNNER_STATE = join(CACHE, "runner-state");

export async function editorImage(): Promise<{ bytes: Uint8Array; digest: string }> {
  const bytes = await readFile(EDITOR_IMAGE_PATH).catch(() => {
    throw new Error(`the code-server image ${EDITOR_IMAGE_PATH} is missing: run .ci/setup`);
  });
  return { bytes: new Uint8Array(bytes), digest: `sha256:${createHash("sha256").update(bytes).digest("hex")}` };
}

if (import.meta.main) {
  // As the container runner does (bridges/containers/plugin.ts), with its default image size limit.
  const image = await editorImage();
  const store = new MemoryContentStore();
  await store.put(image.bytes);
  await mkdir(EDITOR_RUNNER_STATE, { recursive: true });
  await new ImageCache(join(EDITOR_RUNNER_STATE, "images"), 2048 * 1024 * 1024).get(image.digest, store);
  console.log(`code-server image ${image.digest} unpacked under ${EDITOR_RUNNER_STATE}`);
}
