/** A Weft node: libp2p, sync sessions, spaces, gossip and blobs wired into one object every shell starts. */
export * from "./blobs.ts";
export * from "./libp2p.ts";
export * from "./node.ts";
export type { InviteOptions } from "./joining.ts";
export { didFromPeerId, peerIdFromDid } from "../identity/peer-id.ts";
