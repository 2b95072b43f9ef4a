/** The LLM router's runtime-neutral core: types, the error taxonomy, cost arithmetic, routing, the budget hook. */
export * from "./budget.ts";
export * from "./cost.ts";
export * from "./failures.ts";
export * from "./request.ts";
export * from "./router.ts";
export * from "./routing.ts";
export * from "./types.ts";
