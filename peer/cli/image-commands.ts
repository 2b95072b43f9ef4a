/**
 * `weft image import`: a container image without a registry. The OCI
 * archive (`podman save --format oci-archive`, `skopeo copy … oci-archive:`)
 * is unpacked in a sandbox and checked as the container runner will check
 * it — one image, every blob matching its digest, tar layers only — before
 * it is stored as an artifact. Jobs name it by the digest (or CID)
 * printed; `weft run <archive> --runner container -- <command>` names it
 * and runs a command in it (the peer already holding the bytes).
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { extractArchive } from "../../bridges/containers/image-cache.ts";
import { readOciLayout } from "../../bridges/containers/oci-layout.ts";
import { ArtifactClient } from "../artifacts/api-client.ts";
import { need } from "./args.ts";
import { type Command, resolveSpace } from "./command.ts";

/** The archive's `sha256:<hex>`: the name container jobs give the image. */
async function digestOf(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return `sha256:${hash.digest("hex")}`;
}

export const IMAGE_COMMANDS: Record<string, Command> = {
  "image import": {
    usage: "weft image import <oci-archive.tar> [--space s]",
    summary: "Check an OCI image archive and store it as an artifact; prints the digest container jobs name it by",
    async run(a, v, io) {
      const file = resolve(need(a, 0, "oci-archive.tar"));
      const dir = await mkdtemp(join(tmpdir(), "weft-image-"));
      let layers: number;
      try {
        await extractArchive(file, dir);
        layers = (await readOciLayout(dir)).layers.length;
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
      const space = await resolveSpace(io, v);
      const stored = await new ArtifactClient(await io.client()).upload(space, file, {
        hashing() {},
        sending() {},
      });
      const image = { digest: await digestOf(file), cid: stored.cid, size: stored.size, layers };
      io.print(
        image,
        () =>
          `${image.digest}  ${basename(file)}, ${layers} layer(s), ${(image.size / 1048576).toFixed(1)} MB\n` +
          `stored as ${image.cid}; run a command in it: weft run ${basename(file)} --runner container -- <command>`,
      );
    },
  },
};
