/** Repositories in a space: their operations, the family that reduces them, and ref policies. */
export * from "./family.ts";
export * from "./ops.ts";
export * from "./reducer.ts";
export * from "./ref-policy.ts";
export * from "./state.ts";
