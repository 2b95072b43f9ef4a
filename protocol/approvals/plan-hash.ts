/** The hash a plan is approved by: lowercase hex sha-256 of its UTF-8 bytes, the same in every runtime. */
import { sha256 } from "@noble/hashes/sha2.js";
import { toHex } from "../bytes.ts";

export function planHash(plan: string): string {
  return toHex(sha256(new TextEncoder().encode(plan)));
}
