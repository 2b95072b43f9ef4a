/**
 * The SSHSIG armour heartwood puts in a COB change's `gpgsig` header
 * (`ExtendedSignature::to_pem`, ssh-key's `SshSig` with namespace
 * `radicle` and hash `sha256`). Note what heartwood signs: the Ed25519
 * signature inside is over the raw 20 bytes of the change's tree id, not
 * over SSHSIG's "signed data" wrapper, so `ssh-keygen -Y verify` does not
 * check it; the bridge verifies it as heartwood does
 * (`ExtendedSignature::verify(revision)`).
 */
import { concatBytes, fromBase64Url, fromUtf8, toBase64, utf8 } from "#protocol";
import { RadicleMalformed } from "./errors.ts";

const MAGIC = utf8("SSHSIG");
const KEY_TYPE = "ssh-ed25519";
export const NAMESPACE = "radicle";
const HASH = "sha256";
const BEGIN = "-----BEGIN SSH SIGNATURE-----";
const END = "-----END SSH SIGNATURE-----";
/** ssh-key wraps the base64 body at 70 columns, as OpenSSH does. */
const WIDTH = 70;

export interface ExtendedSignature {
  publicKey: Uint8Array;
  signature: Uint8Array;
}

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
}

function sshString(bytes: Uint8Array | string): Uint8Array {
  const b = typeof bytes === "string" ? utf8(bytes) : bytes;
  return concatBytes(u32(b.length), b);
}

/** The armoured SSHSIG, lines joined by `\n`, no trailing newline (the commit header trims it). */
export function armor({ publicKey, signature }: ExtendedSignature): string {
  const blob = concatBytes(
    MAGIC,
    u32(1),
    sshString(concatBytes(sshString(KEY_TYPE), sshString(publicKey))),
    sshString(NAMESPACE),
    sshString(""),
    sshString(HASH),
    sshString(concatBytes(sshString(KEY_TYPE), sshString(signature))),
  );
  const body = toBase64(blob);
  const lines = [];
  for (let i = 0; i < body.length; i += WIDTH) lines.push(body.slice(i, i + WIDTH));
  return [BEGIN, ...lines, END].join("\n");
}

class Reader {
  #at = 0;
  readonly bytes: Uint8Array;
  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }
  take(n: number): Uint8Array {
    if (this.#at + n > this.bytes.length) throw new RadicleMalformed("SSH signature", "is truncated");
    const out = this.bytes.subarray(this.#at, this.#at + n);
    this.#at += n;
    return out;
  }
  u32(): number {
    const b = this.take(4);
    return new DataView(b.buffer, b.byteOffset, 4).getUint32(0);
  }
  string(): Uint8Array {
    return this.take(this.u32());
  }
  text(): string {
    return fromUtf8(this.string());
  }
  get done(): boolean {
    return this.#at === this.bytes.length;
  }
}

/** Read an armoured SSHSIG as heartwood accepts it: Ed25519, namespace `radicle`. */
export function dearmor(pem: string): ExtendedSignature {
  if (pem.length > 4096) throw new RadicleMalformed("SSH signature", "is longer than any Ed25519 SSHSIG");
  const lines = pem.trim().split("\n");
  if (lines[0] !== BEGIN || lines.at(-1) !== END) {
    throw new RadicleMalformed("SSH signature", "is not an armoured SSH SIGNATURE");
  }
  const body = lines.slice(1, -1).join("");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body)) throw new RadicleMalformed("SSH signature", "is not base64");
  const r = new Reader(fromBase64Url(body));
  const magic = fromUtf8(r.take(6));
  if (magic !== "SSHSIG" || r.u32() !== 1) throw new RadicleMalformed("SSH signature", "is not SSHSIG version 1");
  const key = new Reader(r.string());
  if (key.text() !== KEY_TYPE) throw new RadicleMalformed("SSH signature", "is not made with an Ed25519 key");
  const publicKey = key.string();
  const namespace = r.text();
  r.string(); // reserved
  const hash = r.text();
  const sig = new Reader(r.string());
  if (sig.text() !== KEY_TYPE) throw new RadicleMalformed("SSH signature", "is not an Ed25519 signature");
  const signature = sig.string();
  if (!r.done || !key.done || !sig.done) throw new RadicleMalformed("SSH signature", "has trailing bytes");
  if (namespace !== NAMESPACE) {
    throw new RadicleMalformed("SSH signature", `is for namespace ${JSON.stringify(namespace)}, not "radicle"`);
  }
  if (hash !== HASH && hash !== "sha512") {
    throw new RadicleMalformed("SSH signature", `uses unknown hash ${JSON.stringify(hash)}`);
  }
  if (publicKey.length !== 32 || signature.length !== 64) {
    throw new RadicleMalformed("SSH signature", "has a wrong key or signature length");
  }
  return { publicKey: publicKey.slice(), signature: signature.slice() };
}
