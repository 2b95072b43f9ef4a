/** Spaces: documents, authority, gossip, invites, standing and revocation as one node sees them. */
export * from "./authority.ts";
export * from "./docs.ts";
export * from "./errors.ts";
export * from "./gossip.ts";
export * from "./invite.ts";
export * from "./revocation-notice.ts";
export * from "./space.ts";
export * from "./standing.ts";
export * from "./sync-proof.ts";
