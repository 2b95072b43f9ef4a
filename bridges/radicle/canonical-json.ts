/**
 * Canonical JSON exactly as heartwood writes it (its `CanonicalFormatter`
 * over serde_json's compact output): object keys sorted by the bytes of
 * their UTF-8 encoding, strings in Unicode NFC, serde_json's escapes
 * (`\"`, `\\`, `\b \f \n \r \t`, other control characters as `\u00xx`),
 * integers only. Action blobs, manifests and identity documents are hashed
 * as these bytes, so one byte off changes every id: this is the one
 * encoder the bridge uses for anything it hashes.
 */
import { RadicleMalformed } from "./errors.ts";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json | undefined };

const encoder = new TextEncoder();

function compareUtf8(a: string, b: string): number {
  const x = encoder.encode(a), y = encoder.encode(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

/** serde_json's string escaping, after NFC normalization (JSON.stringify escapes the same set). */
function string(s: string): string {
  return JSON.stringify(s.normalize("NFC"));
}

function write(value: Json, out: string[]): void {
  if (value === null) out.push("null");
  else if (typeof value === "boolean") out.push(value ? "true" : "false");
  else if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) {
      throw new RadicleMalformed("canonical JSON", `holds integers only, got ${value}`);
    }
    out.push(String(value));
  } else if (typeof value === "string") out.push(string(value));
  else if (Array.isArray(value)) {
    out.push("[");
    value.forEach((v, i) => {
      if (i) out.push(",");
      write(v, out);
    });
    out.push("]");
  } else {
    const keys = Object.keys(value).filter((k) => value[k] !== undefined)
      .map((k) => [k, string(k)] as const)
      .sort((a, b) => compareUtf8(a[1], b[1]));
    out.push("{");
    keys.forEach(([k, quoted], i) => {
      if (i) out.push(",");
      out.push(quoted, ":");
      write(value[k] as Json, out);
    });
    out.push("}");
  }
}

/** The canonical text of a JSON value (`undefined` members are left out, as serde's `skip_serializing_if`). */
export function canonicalJson(value: Json): string {
  const out: string[] = [];
  write(value, out);
  return out.join("");
}

/** The canonical bytes of a JSON value. */
export function canonicalBytes(value: Json): Uint8Array {
  return encoder.encode(canonicalJson(value));
}
