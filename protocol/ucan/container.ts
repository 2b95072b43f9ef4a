/**
 * UCAN containers (ucan-wg/container v0.1.0): several tokens in one
 * value, e.g. an invocation with its proofs in an HTTP header.
 *
 *   payload   = DAG-CBOR {"ctn-v1": [token bytes, …]}
 *   container = header byte ‖ payload, optionally gzipped, optionally base64
 *     '@' raw   'B' base64   'C' base64url (no padding)
 *     'M' gzip  'O' gzip+base64   'P' gzip+base64url
 *
 * Writers sort the tokens bytewise and drop duplicates (container spec
 * §2.1), so one set of tokens has one encoding. Order carries no meaning, so
 * readers take any order; they recompute CIDs.
 */
import { decodeStrict, encode } from "../codec/dag-cbor.ts";
import { compareBytes, fromBase64Url, fromUtf8, toBase64, toBase64Url, utf8 } from "../bytes.ts";
import { UcanError } from "./errors.ts";
import { MAX_TOKEN_BYTES } from "./envelope.ts";

export type ContainerForm = "@" | "B" | "C" | "M" | "O" | "P";

const KEY = "ctn-v1";
/** Enough for an invocation and a long proof chain; refuses zip bombs. */
export const MAX_CONTAINER_BYTES = 512 * 1024;
const MAX_TOKENS = 64;

function malformed(message: string, cause?: unknown): UcanError {
  return new UcanError("MalformedToken", `container: ${message}`, { cause });
}

async function pipeThrough(bytes: Uint8Array, stream: CompressionStream | DecompressionStream): Promise<Uint8Array> {
  const out = new Blob([bytes as BlobPart]).stream().pipeThrough(stream);
  const reader = out.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > MAX_CONTAINER_BYTES) {
      await reader.cancel();
      throw malformed(`decompressed size exceeds ${MAX_CONTAINER_BYTES} bytes`);
    }
    chunks.push(value);
  }
  const result = new Uint8Array(size);
  let o = 0;
  for (const c of chunks) {
    result.set(c, o);
    o += c.length;
  }
  return result;
}

/** The tokens in bytewise order, each once: the array §2.1 requires. */
function canonicalOrder(tokens: readonly Uint8Array[]): Uint8Array[] {
  const sorted = [...tokens].sort(compareBytes);
  return sorted.filter((t, i) => i === 0 || compareBytes(sorted[i - 1], t) !== 0);
}

export async function encodeContainer(
  tokens: readonly Uint8Array[],
  form: ContainerForm = "C",
): Promise<string | Uint8Array> {
  let body = encode({ [KEY]: canonicalOrder(tokens) });
  if (form === "M" || form === "O" || form === "P") body = await pipeThrough(body, new CompressionStream("gzip"));
  if (form === "@" || form === "M") {
    const out = new Uint8Array(body.length + 1);
    out[0] = form.charCodeAt(0);
    out.set(body, 1);
    return out;
  }
  const text = form === "C" || form === "P" ? toBase64Url(body) : toBase64(body);
  return form + text;
}

/** The token bytes in a container (string or bytes form). Throws MalformedToken. */
export async function decodeContainer(input: string | Uint8Array): Promise<Uint8Array[]> {
  const raw = typeof input === "string" ? utf8(input) : input;
  if (raw.length < 2) throw malformed("empty");
  if (raw.length > MAX_CONTAINER_BYTES * 2) throw malformed("too large");
  const form = String.fromCharCode(raw[0]) as ContainerForm;
  let body: Uint8Array;
  try {
    switch (form) {
      case "@":
      case "M":
        body = raw.subarray(1);
        break;
      case "B":
      case "C":
      case "O":
      case "P":
        body = fromBase64Url(fromUtf8(raw.subarray(1)));
        break;
      default:
        throw malformed(`unknown header byte 0x${raw[0].toString(16)}`);
    }
    if (form === "M" || form === "O" || form === "P") body = await pipeThrough(body, new DecompressionStream("gzip"));
  } catch (e) {
    if (e instanceof UcanError) throw e;
    throw malformed(`cannot decode the ${form} form: ${(e as Error).message}`, e);
  }
  let value: unknown;
  try {
    value = decodeStrict(body, { maxBytes: MAX_CONTAINER_BYTES, maxDepth: 4 });
  } catch (e) {
    throw malformed((e as Error).message, e);
  }
  const map = value as Record<string, unknown>;
  if (typeof map !== "object" || map === null || Object.keys(map).length !== 1 || !Array.isArray(map[KEY])) {
    throw malformed(`expected exactly {"${KEY}": [tokens]}`);
  }
  const tokens = map[KEY] as unknown[];
  if (tokens.length === 0 || tokens.length > MAX_TOKENS) throw malformed(`holds 1 to ${MAX_TOKENS} tokens`);
  for (const t of tokens) {
    if (!(t instanceof Uint8Array) || t.length > MAX_TOKEN_BYTES) throw malformed("every token is bytes");
  }
  return tokens as Uint8Array[];
}
