/**
 * What an API invocation must name about its request, shared by server and
 * client: the method, the path with its query, and a digest of the body.
 * Binding the invocation to the request means a captured bearer cannot be
 * reused for another request; its short expiry and a replay cache mean it
 * cannot be reused for the same one.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { toHex } from "#protocol";

/** The longest an API invocation may live. */
export const MAX_QUERY_TTL_SECONDS = 600;

export function requestArgs(method: string, pathWithQuery: string, body?: Uint8Array): Record<string, string> {
  return {
    method,
    path: pathWithQuery,
    ...(body && body.length > 0 ? { body: toHex(sha256(body)) } : {}),
  };
}
