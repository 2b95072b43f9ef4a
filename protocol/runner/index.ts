/** Runners: the one interface every run backend implements, the run spec, and the store a run reads and writes. */
export * from "./mesh-store.ts";
export * from "./runner.ts";
export * from "./source.ts";
