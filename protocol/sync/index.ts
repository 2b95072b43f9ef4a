/** Sync: authenticated sessions over any framed link, and the automerge-repo adapters for libp2p, WebSockets and stock clients. */
export * from "./sync-authority.ts";
export * from "./frames.ts";
export * from "./git-frames.ts";
export * from "./length-frames.ts";
export type { BlobFrame, HaveFrame, WantFrame } from "./blob-exchange.ts";
export type { RepoFrame } from "./gate.ts";
export type { GossipFrame, GossipFrames, PullFrame } from "./gossip-frames.ts";
export type { AuthFrame, AuthzFrame, HandshakeFrame, HelloFrame, RevokedFrame } from "./handshake.ts";
export type { LogFrame, LogsFrame, LogStreamFrame } from "./log-streams.ts";
export * from "./libp2p-adapter.ts";
export * from "./memory-adapter.ts";
export * from "./peer-access.ts";
export * from "./session-adapter.ts";
export * from "./session.ts";
export * from "./stock-websocket-adapter.ts";
export * from "./websocket-adapter.ts";
