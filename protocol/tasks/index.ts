/**
 * Tasks, and the space's operation log they share with the other families
 * (family.ts): signed operations, their causal graph and time gate, and the
 * deterministic reduction every node computes.
 */
export * from "./causal.ts";
export * from "./ended-authority.ts";
export * from "./family.ts";
export * from "./hlc.ts";
export * from "./log.ts";
export * from "./op-checks.ts";
export * from "./ops.ts";
export * from "./query.ts";
export * from "./reducer.ts";
export * from "./spend.ts";
export * from "./state.ts";
export * from "./task-family.ts";
export * from "./time-gate.ts";
