/**
 * The cryptography of API sessions, shared by the peer that checks them and
 * the client that makes them (auth.ts, sessions.ts, client.ts).
 *
 * A session's key is agreed, never sent: the client puts an ephemeral X25519
 * public key in the body of the signed request that opens the session (so
 * the signature covers it), the peer answers with its own, and each side
 * derives the key from their Diffie-Hellman secret with HKDF-SHA256, salted
 * with the opening invocation's CID. Someone who reads every byte on the wire
 * cannot derive it; someone who alters the answer gets a key the peer does
 * not hold. Each later request carries
 * `Authorization: WeftSession <id>.<counter>.<mac>`, the MAC an HMAC-SHA256
 * under that key over the session, the counter and what the request is:
 * method, path with query, and the SHA-256 of its body (requestArgs, the same
 * fields a signed bearer names).
 */
import {
  createHmac,
  createPublicKey,
  createSecretKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  type KeyObject,
  timingSafeEqual,
} from "node:crypto";
import { HttpError } from "./errors.ts";

/** Where a session is opened (its bearer names this request). */
export const SESSIONS_PATH = "/v1/sessions";
/** The Authorization scheme of a MAC'd session request. */
export const SESSION_SCHEME = "WeftSession";
/** What the MAC and the key derivation are for, so neither can be taken for anything else. */
const DOMAIN = "weft-api-session-v1";
/** A public key as base64url: 32 bytes. */
export const PUBLIC_KEY = /^[A-Za-z0-9_-]{43}$/;
const HEADER = /^WeftSession ([A-Za-z0-9_-]{22})\.([1-9][0-9]{0,15})\.([A-Za-z0-9_-]{43})$/;

export interface SessionKeyPair {
  /** base64url, 32 bytes: what goes to the other side. */
  publicKey: string;
  privateKey: KeyObject;
}

export function sessionKeyPair(): SessionKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync("x25519");
  return { publicKey: publicKey.export({ format: "jwk" }).x!, privateKey };
}

/**
 * The session key from our private key and the other side's public key,
 * bound to the invocation `openedBy` (its CID) that opened the session.
 */
export function sessionKey(own: KeyObject, theirs: string, openedBy: string): KeyObject {
  let shared: Buffer;
  try {
    if (!PUBLIC_KEY.test(theirs)) throw new Error("not 32 bytes of base64url");
    shared = diffieHellman({
      privateKey: own,
      publicKey: createPublicKey({ key: { kty: "OKP", crv: "X25519", x: theirs }, format: "jwk" }),
    });
  } catch (e) {
    // A malformed key, or a low-order point (OpenSSL refuses an all-zero secret).
    throw new HttpError(400, "key/invalid", `not a usable X25519 public key: ${(e as Error).message}`);
  }
  // A KeyObject, not bytes: on Node 24 an HMAC keyed with a Buffer costs ~25 µs to set up, with a KeyObject ~3.
  return createSecretKey(Buffer.from(hkdfSync("sha256", shared, openedBy, DOMAIN, 32)));
}

/** What a session request names about itself: requestArgs' method, path with query, and body digest. */
export type RequestFields = Readonly<Record<string, string>>;

/** The MAC of request `fields` as number `counter` of session `id`, base64url. */
export function sessionMac(key: KeyObject, id: string, counter: number, fields: RequestFields): string {
  return createHmac("sha256", key)
    .update(`${DOMAIN}\n${id}\n${counter}\n${fields.method}\n${fields.path}\n${fields.body ?? ""}`)
    .digest("base64url");
}

/** The Authorization header value for request `fields` as number `counter` of session `id`. */
export function sessionAuthorization(key: KeyObject, id: string, counter: number, fields: RequestFields): string {
  return `${SESSION_SCHEME} ${id}.${counter}.${sessionMac(key, id, counter, fields)}`;
}

export function isSessionAuthorization(header: string | undefined | null): header is string {
  return header !== undefined && header !== null && header.startsWith(`${SESSION_SCHEME} `);
}

/** Parse a WeftSession header, strictly; a malformed one is refused as a bad MAC would be. */
export function parseSessionAuthorization(header: string): { id: string; counter: number; mac: string } {
  const m = HEADER.exec(header);
  const counter = m ? Number(m[2]) : NaN;
  if (!m || !Number.isSafeInteger(counter)) {
    throw new HttpError(
      401,
      "auth/session-mac",
      `send Authorization: ${SESSION_SCHEME} <session>.<counter>.<mac> (see peer/api/session-crypto.ts)`,
    );
  }
  return { id: m[1], counter, mac: m[3] };
}

/** Does `given` equal the MAC `want` (both base64url of 32 bytes), in constant time? */
export function macMatches(given: string, want: string): boolean {
  const a = Buffer.from(given, "base64url"), b = Buffer.from(want, "base64url");
  return a.length === 32 && b.length === 32 && timingSafeEqual(a, b);
}
