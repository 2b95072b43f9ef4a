/** Sync: authenticated sessions over any framed link, and the automerge-repo adapters for libp2p, WebSockets and stock clients. */
export * from "./sync-authority.ts";
export * from "./frames.ts";
export * from "./libp2p-adapter.ts";
export * from "./memory-adapter.ts";
export * from "./peer-access.ts";
export * from "./session-adapter.ts";
export * from "./session.ts";
export * from "./stock-websocket-adapter.ts";
export * from "./websocket-adapter.ts";
