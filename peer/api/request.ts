/**
 * What an API invocation must name about its request (protocol/ucan/request-args.ts,
 * shared with the browser), and how long one may live.
 */
export { requestArgs } from "#protocol/ucan";

/** The longest an API invocation may live. */
export const MAX_QUERY_TTL_SECONDS = 600;
