/** Agents: the delegations that make one (and what they hold), and the budget hooks (space and router) and kill switch it runs under on a node. */
export * from "./grants.ts";
export * from "./holdings.ts";
export * from "./spending.ts";
export * from "./router-budget.ts";
