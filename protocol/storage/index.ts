/** automerge-repo storage adapters over memory and small key-value stores. */
export * from "./key-index.ts";
export * from "./kv-storage.ts";
export * from "./memory-storage.ts";
