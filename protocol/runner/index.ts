/** Runners: the one interface every run backend implements, the run spec, the store a run reads and writes, and the plug-in contract shells load backends through. */
export * from "./mesh-store.ts";
export * from "./plugin.ts";
export * from "./runner.ts";
export * from "./source.ts";
export * from "./settle.ts";
