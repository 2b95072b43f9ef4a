/** Strict DAG-CBOR and CIDs for bytes from the network or disk. */
export * from "./cid.ts";
export * from "./dag-cbor.ts";
export { type Sha256, useSha256 } from "./sha256.ts";
