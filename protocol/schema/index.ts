/** Validators for input from the network, a file or a user, and the rules for names people give things. */
export * from "./input-checks.ts";
export * from "./names.ts";
