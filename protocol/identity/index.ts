/**
 * Identities: Ed25519 keys, did:key, signers, verifiers, keystores.
 * Light on purpose (no libp2p): the CLI loads it for every command. PeerId
 * conversion lives in peer-id.ts, used by the libp2p adapter only.
 */
export * from "./did-key.ts";
export * from "./ed25519.ts";
export * from "./keystore.ts";
export * from "./remembering-verifier.ts";
export * from "./batching-verifier.ts";
