/** Identities: Ed25519 keys, did:key, PeerIds, signers, verifiers, keystores. */
export * from "./did-key.ts";
export * from "./ed25519.ts";
export * from "./keystore.ts";
export * from "./peer-id.ts";
