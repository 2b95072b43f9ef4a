/**
 * Images for the bubblewrap backend: an OCI archive fetched from the
 * content store by its digest, checked, and unpacked once into a rootfs
 * directory kept under the runner's state dir by that digest. Every tar
 * runs inside a sandbox that sees only the archive and the directory it
 * writes, so a hostile archive (absolute paths, `..`, symlinks out of the
 * tree, whiteouts naming host paths) can reach nothing of the host. Layers
 * are applied lowest first with OCI whiteouts; then the mount points a run
 * needs are made, so the finished rootfs can be bound read-only.
 */
import { mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import * as Digest from "multiformats/hashes/digest";
import { CID, RAW } from "#protocol/codec";
import { WeftError } from "#protocol";
import type { ContentStore } from "#protocol/runner";
import { fetchVerified } from "../../wasm-runners/core/content.ts";
import { HOST_USR_ARGS } from "./host-tools.ts";
import { type ImageConfig, readOciLayout, SHA256_DIGEST } from "./oci-layout.ts";
import { mustRun } from "./tool.ts";

const SHA2_256 = 0x12;

export interface UnpackedImage {
  rootfs: string;
  config: Omit<ImageConfig, "layers">;
}

/** The raw-codec CID of the archive whose sha-256 is `digest` (`sha256:<hex>`): where the content store keeps it. */
export function imageCid(digest: string): string {
  if (!SHA256_DIGEST.test(digest)) {
    throw new WeftError(
      "InvalidInput",
      "container/bad-image-ref",
      `${digest} is not an image digest (sha256:<64 hex>)`,
    );
  }
  const bytes = Uint8Array.from(digest.slice(7).match(/../g) as string[], (h) => parseInt(h, 16));
  return CID.createV1(RAW, Digest.create(SHA2_256, bytes)).toString();
}

/** The digest (`sha256:<hex>`) an image archive is named by: the sha-256 of its bytes. */
export function imageDigest(cid: string): string {
  const parsed = CID.parse(cid);
  let hex = "";
  for (const b of parsed.multihash.digest) hex += b.toString(16).padStart(2, "0");
  return `sha256:${hex}`;
}

/** Mount points a run binds over, made in every unpacked rootfs (it is read-only when bound). */
const MOUNT_POINTS = ["inputs", "outputs", "src", "proc", "dev", "tmp", "run", "var/tmp"];

const UNPACK_SCRIPT = `set -eu
cd /dst
for layer in "$@"; do
  tar -tf "$layer" | grep -E '(^|/)\\.wh\\.' | while IFS= read -r p; do
    d=$(dirname "$p"); b=$(basename "$p")
    if [ "$b" = ".wh..wh..opq" ]; then find "/dst/$d" -mindepth 1 -maxdepth 1 -exec rm -rf {} + 2>/dev/null || true
    else rm -rf "/dst/$d/\${b#.wh.}"; fi
  done
  tar -xf "$layer" -C /dst --numeric-owner --exclude='.wh.*' --exclude='./.wh.*'
done
for m in ${MOUNT_POINTS.join(" ")}; do mkdir -p "/dst/$m"; done
for f in etc/hosts etc/resolv.conf etc/hostname; do [ -e "/dst/$f" ] || touch "/dst/$f" 2>/dev/null || true; done
`;

/** A helper sandbox: the host's /usr, root's file capabilities (to keep owners), no network, `binds` added. */
function helperArgs(binds: string[]): string[] {
  return [
    "--unshare-ipc",
    "--unshare-pid",
    "--unshare-net",
    "--unshare-uts",
    "--unshare-cgroup-try",
    "--die-with-parent",
    "--new-session",
    "--cap-drop",
    "ALL",
    ...["CAP_CHOWN", "CAP_FOWNER", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_MKNOD"].flatMap((c) => ["--cap-add", c]),
    ...HOST_USR_ARGS,
    ...binds,
  ];
}

/** Extract an OCI archive file into `dir` (which must exist, empty) inside a helper sandbox. */
export async function extractArchive(archive: string, dir: string): Promise<void> {
  await mustRun("unpacking the image archive", "container/bad-image", "bwrap", [
    ...helperArgs(["--ro-bind", archive, "/archive.tar", "--bind", dir, "/dst"]),
    "tar",
    "-xf",
    "/archive.tar",
    "-C",
    "/dst",
    "--no-same-owner",
  ], { timeoutMs: 300_000 });
}

export class ImageCache {
  readonly #dir: string;
  readonly #maxBytes: number;
  readonly #pending = new Map<string, Promise<UnpackedImage>>();
  /** Images this cache unpacked or found complete, by digest: a job's start reads nothing of them again. */
  readonly #ready = new Map<string, UnpackedImage>();

  constructor(dir: string, maxBytes: number) {
    this.#dir = dir;
    this.#maxBytes = maxBytes;
  }

  /** The image `digest` unpacked, from the cache or fetched from `store` and unpacked now. */
  get(digest: string, store: ContentStore): Promise<UnpackedImage> {
    const cid = imageCid(digest);
    const ready = this.#ready.get(digest);
    if (ready) return Promise.resolve(ready);
    let p = this.#pending.get(digest);
    if (!p) {
      p = this.#load(digest, cid, store)
        .then((image) => (this.#ready.set(digest, image), image))
        .finally(() => this.#pending.delete(digest));
      this.#pending.set(digest, p);
    }
    return p;
  }

  async #load(digest: string, cid: string, store: ContentStore): Promise<UnpackedImage> {
    const hex = digest.slice(7);
    const home = join(this.#dir, hex);
    const ready = await readFile(join(home, "image.json"), "utf8").catch(() => undefined);
    if (ready !== undefined) return { rootfs: join(home, "rootfs"), config: JSON.parse(ready) };
    const bytes = await fetchVerified(store, cid, "image");
    if (bytes.length > this.#maxBytes) {
      throw new WeftError(
        "RunnerError",
        "container/image-too-big",
        `image ${digest} is ${bytes.length} bytes, over this node's ${this.#maxBytes}-byte limit (runners.container.maxImageMb)`,
      );
    }
    const work = join(this.#dir, `.${hex}.${crypto.randomUUID()}`);
    try {
      await mkdir(join(work, "layout"), { recursive: true });
      await mkdir(join(work, "rootfs"));
      await writeFile(join(work, "archive.tar"), bytes);
      await extractArchive(join(work, "archive.tar"), join(work, "layout"));
      await rm(join(work, "archive.tar"));
      const { layers, ...config } = await readOciLayout(join(work, "layout"));
      const inSandbox = layers.map((_, i) => `/layers/${i}`);
      await mustRun("applying the image's layers", "container/bad-image", "bwrap", [
        ...helperArgs([
          "--bind",
          join(work, "rootfs"),
          "/dst",
          ...layers.flatMap((l, i) => ["--ro-bind", l, inSandbox[i]]),
        ]),
        "sh",
        "-c",
        UNPACK_SCRIPT,
        "unpack",
        ...inSandbox,
      ], { timeoutMs: 600_000 });
      await rm(join(work, "layout"), { recursive: true, force: true });
      await writeFile(join(work, "image.json"), JSON.stringify(config));
      await rename(work, home).catch(async (e) => {
        // Another process unpacked the same image first: use theirs.
        if (!(await stat(join(home, "image.json")).catch(() => undefined))) throw e;
      });
      return { rootfs: join(home, "rootfs"), config };
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }
}
