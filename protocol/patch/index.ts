/** Patches: signed operations (propose, revise, review, merge, close), the merge gate, and the deterministic reduction. */
export * from "./evidence.ts";
export * from "./family.ts";
export * from "./gate.ts";
export * from "./ops.ts";
export * from "./reducer.ts";
export * from "./state.ts";
export * from "./readiness.ts";
