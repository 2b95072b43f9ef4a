/**
 * Reading an OCI image layout (an unpacked OCI archive) without trusting
 * it: index.json leads to one image manifest, every blob it names must hash
 * to its digest and be the size it claims, and only plain tar layers (raw or
 * gzip) are accepted. What comes out is what a run needs: the layers in
 * order and the image's default command, environment and working directory.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { WeftError } from "#protocol";

/** An OCI digest of sha-256: `sha256:` and 64 lowercase hex digits. */
export const SHA256_DIGEST = /^sha256:[0-9a-f]{64}$/;

const MAX_JSON_BYTES = 1024 * 1024;
const MAX_LAYERS = 128;
const MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const INDEX = "application/vnd.oci.image.index.v1+json";
const LAYER_TYPES = new Set([
  "application/vnd.oci.image.layer.v1.tar",
  "application/vnd.oci.image.layer.v1.tar+gzip",
  "application/vnd.docker.image.rootfs.diff.tar.gzip",
]);

export interface ImageConfig {
  /** The image manifest's digest: what `podman images --digests` shows. */
  manifestDigest: string;
  /** Paths of the layer tars inside the layout, lowest first. */
  layers: string[];
  env: string[];
  entrypoint: string[];
  cmd: string[];
  workingDir: string;
}

function bad(message: string): WeftError {
  return new WeftError(
    "InvalidInput",
    "container/bad-image",
    `not a usable OCI image archive: ${message}; make one with \`podman save --format oci-archive\``,
  );
}

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}

function descriptor(v: unknown, what: string): Descriptor {
  const d = v as Partial<Descriptor> | null;
  if (
    typeof d !== "object" || d === null || typeof d.mediaType !== "string" || typeof d.digest !== "string" ||
    !SHA256_DIGEST.test(d.digest) || typeof d.size !== "number" || !Number.isSafeInteger(d.size) || d.size < 0
  ) {
    throw bad(`${what} is not a descriptor with a mediaType, a sha256 digest and a size`);
  }
  return d as Descriptor;
}

function blobPath(layout: string, digest: string): string {
  return join(layout, "blobs", "sha256", digest.slice("sha256:".length));
}

/** Check a blob is there, is `size` bytes and hashes to `digest`. */
async function checkBlob(layout: string, d: Descriptor, what: string): Promise<string> {
  const path = blobPath(layout, d.digest);
  const s = await stat(path).catch(() => undefined);
  if (!s?.isFile()) throw bad(`${what} ${d.digest} is missing`);
  if (s.size !== d.size) throw bad(`${what} ${d.digest} is ${s.size} bytes, its descriptor says ${d.size}`);
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  if (`sha256:${hash.digest("hex")}` !== d.digest) throw bad(`${what} does not hash to ${d.digest}`);
  return path;
}

async function readJson(path: string, what: string): Promise<Record<string, unknown>> {
  const s = await stat(path).catch(() => undefined);
  if (!s?.isFile()) throw bad(`${what} is missing`);
  if (s.size > MAX_JSON_BYTES) throw bad(`${what} is over ${MAX_JSON_BYTES} bytes`);
  try {
    const v = JSON.parse(await readFile(path, "utf8"));
    if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Error("not an object");
    return v;
  } catch (e) {
    throw bad(`${what} is not a JSON object (${(e as Error).message})`);
  }
}

async function blobJson(layout: string, d: Descriptor, what: string): Promise<Record<string, unknown>> {
  if (d.size > MAX_JSON_BYTES) throw bad(`${what} is over ${MAX_JSON_BYTES} bytes`);
  return await readJson(await checkBlob(layout, d, what), what);
}

function strings(v: unknown, what: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((s) => typeof s !== "string")) throw bad(`${what} is not a list of strings`);
  return v as string[];
}

/** The one image manifest `index.json` names (following one nested index), checked. */
async function findManifest(layout: string): Promise<Descriptor> {
  const index = await readJson(join(layout, "index.json"), "index.json");
  let manifests = Array.isArray(index.manifests) ? index.manifests : [];
  for (let depth = 0; depth < 2; depth++) {
    if (manifests.length !== 1) throw bad(`its index names ${manifests.length} manifests; one image per archive`);
    const d = descriptor(manifests[0], "the index's manifest");
    if (d.mediaType === MANIFEST) return d;
    if (d.mediaType !== INDEX) throw bad(`its index names a ${d.mediaType}, not an image manifest`);
    const nested = await blobJson(layout, d, "the nested index");
    manifests = Array.isArray(nested.manifests) ? nested.manifests : [];
  }
  throw bad("its indexes nest too deep");
}

/** Read and check the image in an unpacked OCI layout at `layout`. */
export async function readOciLayout(layout: string): Promise<ImageConfig> {
  const layoutFile = await readJson(join(layout, "oci-layout"), "oci-layout");
  if (layoutFile.imageLayoutVersion !== "1.0.0") throw bad("oci-layout is not imageLayoutVersion 1.0.0");
  const md = await findManifest(layout);
  const manifest = await blobJson(layout, md, "the image manifest");
  const config = await blobJson(layout, descriptor(manifest.config, "the manifest's config"), "the image config");
  if (!Array.isArray(manifest.layers) || manifest.layers.length > MAX_LAYERS) {
    throw bad(`its manifest must list at most ${MAX_LAYERS} layers`);
  }
  const layers: string[] = [];
  for (const [i, raw] of manifest.layers.entries()) {
    const d = descriptor(raw, `layer ${i}`);
    if (!LAYER_TYPES.has(d.mediaType)) {
      throw bad(`layer ${i} is a ${d.mediaType}; only tar and tar+gzip layers run here`);
    }
    layers.push(await checkBlob(layout, d, `layer ${i}`));
  }
  const c = (config.config ?? {}) as Record<string, unknown>;
  if (typeof c !== "object" || Array.isArray(c)) throw bad("the image config's config is not an object");
  const workingDir = typeof c.WorkingDir === "string" && c.WorkingDir.startsWith("/") ? c.WorkingDir : "/";
  return {
    manifestDigest: md.digest,
    layers,
    env: strings(c.Env, "the image's Env").filter((e) => /^[A-Za-z_][A-Za-z0-9_]*=/.test(e)),
    entrypoint: strings(c.Entrypoint, "the image's Entrypoint"),
    cmd: strings(c.Cmd, "the image's Cmd"),
    workingDir,
  };
}
