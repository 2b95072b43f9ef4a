/** UCAN 1.0: tokens, policies, validation, revocation, containers, and Weft's commands. */
export * from "./errors.ts";
export * from "./command.ts";
export * from "./commands.ts";
export * from "./envelope.ts";
export * from "./delegation.ts";
export * from "./invocation.ts";
export * from "./stores.ts";
export * from "./validator.ts";
export * from "./revocation.ts";
export * from "./container.ts";
export * from "./budget.ts";
export { parsePolicy, type Policy, type Statement } from "./policy/policy.ts";
export { evaluate, matchPolicy } from "./policy/match.ts";
export { parseSelector, resolve, type Selector } from "./policy/selector.ts";
export type { Ipld } from "./policy/ipld.ts";
export * from "./request-args.ts";
export * from "./principal.ts";
