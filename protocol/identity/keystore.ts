/**
 * Where a principal's private key lives. Shells provide the implementation:
 * the peer keeps a 0600 file under its data dir (peer/keystore), the PWA a
 * non-extractable CryptoKey in IndexedDB. Protocol code only sees Signers.
 */
import type { Signer } from "./ed25519.ts";

export interface Keystore {
  /** The signer stored under `name`, or undefined if there is none. */
  load(name: string): Promise<Signer | undefined>;
  /** Create and durably store a new key under `name`; fails if one exists. */
  create(name: string): Promise<Signer>;
}

/** Load the key under `name`, creating it on first use. */
export async function loadOrCreate(keystore: Keystore, name: string): Promise<{ signer: Signer; created: boolean }> {
  const existing = await keystore.load(name);
  if (existing) return { signer: existing, created: false };
  return { signer: await keystore.create(name), created: true };
}
