/** Bridges: the plug-in contract for outside systems acting as their own DID, and hosting one on a node. */
export * from "./bridge.ts";
export * from "./context.ts";
export * from "./pairing-proof.ts";
