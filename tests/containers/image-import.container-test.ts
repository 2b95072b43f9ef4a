/**
 * `weft image import` against a real peer process: the Debian base image's
 * OCI archive is checked and stored, and the digest it prints is the
 * archive's sha-256 (what container jobs name the image by); a tar that is
 * no OCI image is refused with why, and nothing is stored.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { type PeerProcess, startPeer, stopPeer, weft } from "../helpers/peer-process.ts";
import { BASE_IMAGE_PATH, baseImage } from "./base-image.ts";

const run = promisify(execFile);

describe("weft image import", { timeout: 180_000 }, () => {
  let peer: PeerProcess;
  let dir: string;

  before(async () => {
    peer = await startPeer({ WEFT_SLOTS: "0" });
    dir = await mkdtemp(join(tmpdir(), "weft-image-import-"));
  });

  after(async () => {
    await stopPeer(peer);
    await rm(dir, { recursive: true, force: true });
  });

  it("checks and stores an OCI archive, printing the digest jobs name it by", async () => {
    const out = JSON.parse(await weft(peer, "image", "import", BASE_IMAGE_PATH, "--json")) as {
      digest: string;
      cid: string;
      layers: number;
    };
    assert.equal(out.digest, (await baseImage()).digest);
    assert.ok(out.layers >= 1);
    const listed = await weft(peer, "artifact", "ls", "--json");
    assert.ok(listed.includes(out.cid), "the archive is in the artifact store");
  });

  it("refuses a tar that is no OCI image, saying why, and stores nothing", async () => {
    await writeFile(join(dir, "x.txt"), "not an image\n");
    const tar = join(dir, "not-an-image.tar");
    await run("tar", ["-cf", tar, "-C", dir, "x.txt"]);
    const before = await weft(peer, "artifact", "ls", "--json");
    const refused = await weft(peer, "image", "import", tar).then(
      () => assert.fail("a tar without an OCI layout was imported"),
      (e: { code?: number; stderr?: string }) => e,
    );
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr ?? "", /oci-layout/);
    assert.equal(await weft(peer, "artifact", "ls", "--json"), before);
  });
});
