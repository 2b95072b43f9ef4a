/**
 * The IPLD data model as decoded from DAG-CBOR, and the comparisons the
 * policy language needs: kind tests and deep equality where numbers
 * compare by value (1 == 1.0, and integers decoded as BigInt compare with
 * floats), bytes bytewise, links by CID, maps regardless of key order.
 */
import { CID } from "multiformats/cid";
import { equalBytes } from "../../bytes.ts";

export type Ipld =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | CID
  | Ipld[]
  | { [key: string]: Ipld };

export function isLink(v: unknown): v is CID {
  return CID.asCID(v) !== null;
}

export function isList(v: unknown): v is Ipld[] {
  return Array.isArray(v);
}

export function isMap(v: unknown): v is { [key: string]: Ipld } {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array) && !isLink(v);
}

export function isNumber(v: unknown): v is number | bigint {
  return typeof v === "number" || typeof v === "bigint";
}

/** Numeric comparison across number and bigint: <0, 0, >0. */
export function compareNumbers(a: number | bigint, b: number | bigint): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  if (typeof a === "bigint" && typeof b === "bigint") return a < b ? -1 : a > b ? 1 : 0;
  // Mixed: compare exactly when the number is an integer, else via floats.
  const n = (typeof a === "number" ? a : b) as number;
  const big = (typeof a === "bigint" ? a : b) as bigint;
  let cmp: number;
  if (Number.isInteger(n)) {
    const nb = BigInt(n);
    cmp = nb < big ? -1 : nb > big ? 1 : 0;
  } else {
    const nf = Number(big);
    cmp = n < nf ? -1 : n > nf ? 1 : 0;
  }
  return typeof a === "number" ? cmp : -cmp;
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (isNumber(a) && isNumber(b)) return compareNumbers(a, b) === 0;
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return a === b;
  if (a instanceof Uint8Array && b instanceof Uint8Array) {
    if (isLink(a) || isLink(b)) return false;
    return equalBytes(a, b);
  }
  const la = CID.asCID(a);
  const lb = CID.asCID(b);
  if (la !== null || lb !== null) return la !== null && lb !== null && la.equals(lb);
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  if (a instanceof Uint8Array || b instanceof Uint8Array) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    if (!Object.hasOwn(b, k)) return false;
    if (!deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}
