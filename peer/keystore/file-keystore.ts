/**
 * The peer's keystore: one JSON file per key under `<dataDir>/keys/`,
 * mode 0600, written atomically and durably. A key file readable by group
 * or others is refused (as ssh does), and key material is never logged:
 * the signer objects it returns expose only the DID and public key.
 */
import { chmod, mkdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { type ErrorCode, fromBase64Url, toBase64Url, WeftError } from "#protocol";
import { didFromPublicKey, generateSeed, type Keystore, type Signer } from "#protocol/identity";
import { nativePublicKeyFromSeed, nativeSigner } from "../crypto/native-signer.ts";
import { createFileExclusive } from "../storage/atomic-file.ts";

export class KeystoreError extends WeftError {
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super("KeystoreError", code, message, options);
  }
}

const NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** Refuses a secret file others can read or write, as ssh does. */
export function refuseShared(path: string, mode: number): void {
  if ((mode & 0o077) !== 0) {
    throw new KeystoreError(
      "keystore/insecure-permissions",
      `key file ${path} is readable by other users (mode ${(mode & 0o777).toString(8)}); run: chmod 600 ${path}`,
    );
  }
}

interface KeyFile {
  version: 1;
  type: "ed25519";
  did: string;
  /** base64url of the 32-byte Ed25519 seed */
  seed: string;
}

export interface FileKeystoreOptions {
  /** Directory holding the key files (created 0700 if missing). */
  dir: string;
}

/** A keystore that also hands out the raw seed, for the peer's libp2p key. */
export interface SeedKeystore extends Keystore {
  loadSeed(name: string): Promise<Uint8Array | undefined>;
}

export function fileKeystore({ dir }: FileKeystoreOptions): SeedKeystore {
  const pathOf = (name: string) => {
    if (!NAME.test(name)) {
      throw new KeystoreError("keystore/bad-name", `key name ${JSON.stringify(name)} must match ${NAME}`);
    }
    return join(dir, `${name}.json`);
  };

  async function loadSeed(name: string): Promise<Uint8Array | undefined> {
    const path = pathOf(name);
    let info;
    try {
      info = await stat(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw e;
    }
    refuseShared(path, info.mode);
    let parsed: KeyFile;
    try {
      parsed = JSON.parse(await readFile(path, "utf8"));
    } catch (cause) {
      throw new KeystoreError("keystore/corrupt", `key file ${path} is not valid JSON; restore it from backup`, {
        cause,
      });
    }
    let seed: Uint8Array;
    try {
      if (parsed?.version !== 1 || parsed.type !== "ed25519" || typeof parsed.seed !== "string") throw new Error();
      seed = fromBase64Url(parsed.seed);
      if (seed.length !== 32 || didFromPublicKey(nativePublicKeyFromSeed(seed)) !== parsed.did) throw new Error();
    } catch {
      throw new KeystoreError(
        "keystore/corrupt",
        `key file ${path} is damaged (its seed does not match its DID); restore it from backup`,
      );
    }
    return seed;
  }

  return {
    loadSeed,
    async load(name) {
      const seed = await loadSeed(name);
      return seed === undefined ? undefined : nativeSigner(seed);
    },
    async create(name): Promise<Signer> {
      const path = pathOf(name);
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await chmod(dir, 0o700);
      const seed = generateSeed();
      const signer = nativeSigner(seed);
      const file: KeyFile = { version: 1, type: "ed25519", did: signer.did, seed: toBase64Url(seed) };
      try {
        await createFileExclusive(path, JSON.stringify(file, null, 2) + "\n", 0o600);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
        throw new KeystoreError("keystore/exists", `a key named ${name} already exists at ${path}`);
      }
      return signer;
    },
  };
}
