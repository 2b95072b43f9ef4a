/**
 * A hostile image cannot reach the host while it is unpacked: its first
 * layer plants a symlink to a host directory, its second writes a file
 * through that symlink and whites out a host path. Every tar runs in a
 * sandbox that sees only the layer and the rootfs it writes, so the host
 * directory stays untouched; and a layer whose blob does not hash to its
 * digest is refused before anything is unpacked.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ImageCache } from "../../bridges/containers/image-cache.ts";
import { MemoryContentStore } from "../helpers/content-store.ts";

const sha = (b: Uint8Array | string) => createHash("sha256").update(b).digest("hex");

/** An OCI archive (as bytes) of `layers` (tar files), built by hand the way podman save lays it out. */
async function ociArchive(dir: string, layers: Uint8Array[], corrupt = false): Promise<Uint8Array> {
  const layout = join(dir, `layout-${Math.random().toString(36).slice(2)}`);
  await mkdir(join(layout, "blobs", "sha256"), { recursive: true });
  const blob = async (bytes: Uint8Array | string) => {
    const digest = sha(bytes);
    await writeFile(join(layout, "blobs", "sha256", digest), bytes);
    return { digest: `sha256:${digest}`, size: typeof bytes === "string" ? Buffer.byteLength(bytes) : bytes.length };
  };
  const layerDescs = [];
  for (const l of layers) {
    layerDescs.push({ mediaType: "application/vnd.oci.image.layer.v1.tar", ...await blob(l) });
  }
  if (corrupt) await writeFile(join(layout, "blobs", "sha256", layerDescs[0].digest.slice(7)), "tampered");
  const config = await blob(JSON.stringify({ architecture: "amd64", os: "linux", config: { Cmd: ["true"] } }));
  const manifest = await blob(JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.image.config.v1+json", ...config },
    layers: layerDescs,
  }));
  await writeFile(join(layout, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  await writeFile(
    join(layout, "index.json"),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ mediaType: "application/vnd.oci.image.manifest.v1+json", ...manifest }],
    }),
  );
  execFileSync("tar", ["-cf", `${layout}.tar`, "-C", layout, "."]);
  return new Uint8Array(await readFile(`${layout}.tar`));
}

/** A tar of what `build` puts in a fresh directory: all of it, or only the `members` named (no directory entries). */
async function layer(dir: string, build: (root: string) => Promise<void>, members = ["."]): Promise<Uint8Array> {
  const root = await mkdtemp(join(dir, "layer-"));
  await build(root);
  execFileSync("tar", ["-cf", `${root}.tar`, "-C", root, ...members]);
  return new Uint8Array(await readFile(`${root}.tar`));
}

describe("hostile images", () => {
  let dir: string;
  let target: string;
  let store: MemoryContentStore;
  let cache: ImageCache;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "weft-hostile-image-"));
    target = await mkdtemp(join(tmpdir(), "weft-host-target-"));
    await writeFile(join(target, "keep"), "host file");
    store = new MemoryContentStore();
    cache = new ImageCache(join(dir, "images"), 64 * 1024 * 1024);
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
    await rm(target, { recursive: true, force: true });
  });

  it("writes through a planted symlink and whiteouts of host paths land in the sandbox, not on the host", async () => {
    const plant = await layer(dir, async (root) => {
      await symlink(target, join(root, "escape"));
      await symlink("../../../../../../..", join(root, "up"));
    });
    // File members only, no directory entries: a plain `tar -x` on the host follows the planted links.
    const up = `./up/${target.slice(1)}/pwned2`;
    const write = await layer(dir, async (root) => {
      await mkdir(join(root, "escape"));
      await writeFile(join(root, "escape", "pwned"), "written through the symlink");
      await writeFile(join(root, "escape", ".wh.keep"), "");
      await mkdir(join(root, "up", target.slice(1)), { recursive: true });
      await writeFile(join(root, up), "written up and out");
    }, ["./escape/pwned", "./escape/.wh.keep", up]);
    const bytes = await ociArchive(dir, [plant, write]);
    await store.put(bytes);
    const unpacked = await cache.get(`sha256:${sha(bytes)}`, store).catch((e) => e as Error);
    assert.ok(!existsSync(join(target, "pwned")), "nothing was written through the symlink on the host");
    assert.ok(!existsSync(join(target, "pwned2")), "nothing was written up and out of the rootfs");
    assert.equal(await readFile(join(target, "keep"), "utf8"), "host file", "the whiteout removed nothing of the host");
    if (!(unpacked instanceof Error)) assert.ok(existsSync(join(unpacked.rootfs, "inputs")), "mount points made");
  });

  it("refuses a layer that does not hash to its digest, unpacking nothing", async () => {
    const bytes = await ociArchive(dir, [await layer(dir, (root) => writeFile(join(root, "f"), "x"))], true);
    await store.put(bytes);
    await assert.rejects(cache.get(`sha256:${sha(bytes)}`, store), /not a usable OCI image archive: .*layer 0/);
    assert.ok(!existsSync(join(dir, "images", sha(bytes))), "no rootfs is left for the refused image");
  });
});
