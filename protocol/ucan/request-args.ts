/**
 * What an API invocation must name about its HTTP request, shared by the
 * peer that checks it and every client that signs one (the CLI, the
 * browser): the method, the path with its query, and a digest of the body.
 * Binding the invocation to the request means a captured bearer cannot be
 * reused for another request; its short expiry and the peer's replay cache
 * mean it cannot be reused for the same one.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { toHex } from "../bytes.ts";

export function requestArgs(method: string, pathWithQuery: string, body?: Uint8Array): Record<string, string> {
  return {
    method,
    path: pathWithQuery,
    ...(body && body.length > 0 ? { body: toHex(sha256(body)) } : {}),
  };
}
