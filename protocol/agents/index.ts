/** Agents: the delegations that make one (and what they hold), the budget hooks (space and router) and kill switch it runs under on a node, and its live transcript on the wire. */
export * from "./grants.ts";
export * from "./holdings.ts";
export * from "./spending.ts";
export * from "./router-budget.ts";
export * from "./transcript-frames.ts";
