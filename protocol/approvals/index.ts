/** Approval gates: the space's gates, agents' requests with their plans, people's answers, and the check every family's reducer makes. */
export * from "./family.ts";
export * from "./gate.ts";
export * from "./ops.ts";
export * from "./plan-hash.ts";
export * from "./reducer.ts";
