/** Agents: the delegations that make one, and the budget hook and kill switch it runs under on a node. */
export * from "./grants.ts";
export * from "./spending.ts";
