/**
 * The browser node's own IndexedDB database (documents live in automerge's
 * store, see browser-node.ts): private keys as non-extractable CryptoKeys,
 * small settings (peers, the open space, pending joins, the capacity
 * offer), and, for the WASM jobs this tab runs, their programs, inputs and
 * outputs by CID and the signed manifests of its runs.
 */
import { type DBSchema, type IDBPDatabase, openDB } from "idb";

export interface KeyRecord {
  name: string;
  /** Non-extractable: it can sign, and never be read out. */
  privateKey: CryptoKey;
  /** Raw 32-byte Ed25519 public key. */
  publicKey: Uint8Array;
}

export interface ManifestRecord {
  /** The manifest block (dag-json), as signed by this node. */
  bytes: Uint8Array;
  space: string;
  task: string;
}

interface WeftSchema extends DBSchema {
  keys: { key: string; value: KeyRecord };
  settings: { key: string; value: unknown };
  /** Blobs by CID (raw, sha2-256). */
  blobs: { key: string; value: Uint8Array };
  /** Manifests of runs on this node, by CID. */
  manifests: { key: string; value: ManifestRecord };
}

export type WeftDb = IDBPDatabase<WeftSchema>;

export function openWeftDb(name = "weft"): Promise<WeftDb> {
  return openDB<WeftSchema>(name, 2, {
    upgrade(db, from) {
      if (from < 1) {
        db.createObjectStore("keys", { keyPath: "name" });
        db.createObjectStore("settings");
      }
      if (from < 2) {
        db.createObjectStore("blobs");
        db.createObjectStore("manifests");
      }
    },
  });
}
