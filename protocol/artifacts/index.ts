/** Artifacts: run outputs by digest, their manifests, signed provenance (DSSE, in-toto/SLSA) and offline verification. */
export * from "./build.ts";
export * from "./digest.ts";
export * from "./dsse.ts";
export * from "./errors.ts";
export * from "./manifest.ts";
export * from "./media-type.ts";
export * from "./reproduce.ts";
export * from "./run-log.ts";
export * from "./statement.ts";
export * from "./store.ts";
export * from "./verify.ts";
