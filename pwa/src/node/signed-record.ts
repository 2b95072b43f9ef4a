/**
 * A JSON record this device keeps in IndexedDB signed with its own key,
 * bound to what it is (`purpose`) and to the device, so nothing written
 * there by anyone else — or a record of one kind put in the place of
 * another — is ever taken for this device's own. Shared by the saved view
 * (snapshot.ts) and the actions taken before the node caught up
 * (intents.ts). A record that fails is deleted and reported with why.
 */
import { didFromPublicKey, type Signer, type Verifier } from "#protocol/identity";
import { concatBytes, utf8 } from "#protocol";
import type { WeftDb } from "./db.ts";

interface Stored {
  json: string;
  signature: Uint8Array;
}

/** What the signature covers: the purpose and the device, then the JSON. */
const signed = (purpose: string, did: string, json: string) => concatBytes(utf8(`${purpose} ${did}\n`), utf8(json));

/** Sign and keep `value` under `key`; durable when this resolves. */
export async function putSigned(
  db: WeftDb,
  signer: Signer,
  key: string,
  purpose: string,
  value: unknown,
): Promise<void> {
  const json = JSON.stringify(value);
  const signature = await signer.sign(signed(purpose, signer.did, json));
  await db.put("settings", { json, signature } satisfies Stored, key);
}

export type Read = { json: unknown; did: string } | { refused: string } | undefined;

/**
 * The record under `key`, parsed, if there is one and it is this device's:
 * signed by its key for `purpose`, at most `maxChars` of JSON. One that is
 * not is deleted and reported as refused, with why; what the JSON says is
 * for the caller to check.
 */
export async function getSigned(
  db: WeftDb,
  verifier: Verifier,
  key: string,
  purpose: string,
  maxChars: number,
): Promise<Read> {
  const [stored, device] = await Promise.all([db.get("settings", key), db.get("keys", "device")]);
  if (stored === undefined || device === undefined) return undefined;
  const did = didFromPublicKey(device.publicKey);
  const reason = await refusal(stored, did, purpose, maxChars, verifier);
  if (typeof reason !== "string") return { json: reason.json, did };
  await db.delete("settings", key);
  return { refused: reason };
}

async function refusal(
  stored: unknown,
  did: string,
  purpose: string,
  maxChars: number,
  verifier: Verifier,
): Promise<{ json: unknown } | string> {
  const s = stored as Partial<Stored>;
  if (typeof s !== "object" || s === null || typeof s.json !== "string" || !(s.signature instanceof Uint8Array)) {
    return "it is not a signed record";
  }
  if (s.json.length > maxChars) return `it is larger than ${maxChars} characters`;
  if (!await verifier.verify(did, signed(purpose, did, s.json), s.signature)) {
    return "its signature is not this device's: it was changed after this browser saved it";
  }
  try {
    return { json: JSON.parse(s.json) };
  } catch (e) {
    return `it is malformed (${(e as Error).message})`;
  }
}
