/** The core's shared pieces: the one error type and its codes, byte helpers, and refusal diagnostics. */
export * from "./bytes.ts";
export * from "./diagnostics.ts";
export * from "./error-codes.ts";
export * from "./errors.ts";
