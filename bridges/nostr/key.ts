/**
 * The bridge's own Nostr key. Nostr keys are secp256k1, so the bridge's
 * Ed25519 DID key cannot serve: it gets a second key, made on first start
 * and kept like the node key (a 0600 file in the bridge's private
 * directory, never replicated, never in a document). Its DID vouches for it
 * with a binding (binding.ts).
 */
import { open, readFile } from "node:fs/promises";
import { join } from "node:path";
import { generateSecretKey, getPublicKey } from "nostr-tools/pure";
import { fromHex, toHex, WeftError } from "#protocol";

export interface NostrKey {
  secret: Uint8Array;
  /** x-only public key, hex, as Nostr events carry it. */
  pubkey: string;
}

const FILE = "nostr-key.json";

/** The key in `dir`, or undefined if there is none yet; throws if the file is there but unreadable. */
export async function readNostrKey(dir: string): Promise<NostrKey | undefined> {
  const path = join(dir, FILE);
  try {
    const { secret } = JSON.parse(await readFile(path, "utf8")) as { secret?: unknown };
    if (typeof secret !== "string" || !/^[0-9a-f]{64}$/.test(secret)) throw new Error("no 64-hex-digit secret");
    const bytes = fromHex(secret);
    return { secret: bytes, pubkey: getPublicKey(bytes) };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new WeftError(
      "KeyUnreadable",
      "key/invalid",
      `the Nostr key ${path} is unreadable (${(e as Error).message}); restore it from a backup, or delete it ` +
        "to make a new one (paired people then pair again)",
    );
  }
}

/** Load the key in `dir`, or make one (written 0600, exclusively, flushed) if there is none. */
export async function loadOrCreateNostrKey(dir: string): Promise<{ key: NostrKey; created: boolean }> {
  const existing = await readNostrKey(dir);
  if (existing) return { key: existing, created: false };
  const secret = generateSecretKey();
  const file = await open(join(dir, FILE), "wx", 0o600);
  try {
    await file.writeFile(JSON.stringify({ secret: toHex(secret) }));
    await file.sync();
  } finally {
    await file.close();
  }
  return { key: { secret, pubkey: getPublicKey(secret) }, created: true };
}
