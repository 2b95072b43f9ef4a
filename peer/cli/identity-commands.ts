/**
 * `weft init`, `weft id`, `weft relay-key`: this peer's identity and keys.
 * They run offline (no daemon, no API), so they load only the keystore
 * and the identity code.
 */
import { access, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ensureDataDir } from "../data-dir.ts";
import { fileKeystore } from "../keystore/file-keystore.ts";
import { generateSeed, loadOrCreate } from "#protocol/identity";
import { nativeSigner } from "../crypto/native-signer.ts";
import { toBase64Url } from "#protocol";
import type { Command } from "./command.ts";

export const IDENTITY_COMMANDS: Record<string, Command> = {
  init: {
    usage: "weft init",
    summary: "Create the data dir, this peer's identity and a commented weft.toml",
    async run(_a, _v, io) {
      await ensureDataDir(io.home);
      const { defaultToml } = await import("../daemon/config.ts");
      const { signer, created } = await loadOrCreate(fileKeystore({ dir: join(io.home, "keys") }), "node");
      const toml = join(io.home, "weft.toml");
      const exists = await access(toml).then(() => true, () => false);
      if (!exists) await writeFile(toml, defaultToml("weft"), { mode: 0o644 });
      io.print(
        { did: signer.did, home: io.home, created },
        () =>
          `${created ? "created" : "found"} identity ${signer.did}\nconfig: ${toml}${
            exists ? " (kept)" : " (written)"
          }`,
      );
    },
  },
  id: {
    usage: "weft id",
    summary: "This peer's DID",
    async run(_a, _v, io) {
      const { signer } = await loadOrCreate(fileKeystore({ dir: join(io.home, "keys") }), "node");
      io.print({ did: signer.did }, () => signer.did);
    },
  },
  "relay-key": {
    usage: "weft relay-key",
    summary: "Make a new relay key: a base64url seed for WEFT_RELAY_KEY, and the DID it gives",
    run(_a, _v, io) {
      const seed = generateSeed();
      const { did } = nativeSigner(seed);
      io.print(
        { key: toBase64Url(seed), did },
        () => `WEFT_RELAY_KEY=${toBase64Url(seed)}\n# relay DID: ${did} (keep the key secret)`,
      );
      return Promise.resolve();
    },
  },
};
