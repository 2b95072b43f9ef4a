/**
 * Noise's ChaCha20-Poly1305 through node:crypto (OpenSSL) for bulk traffic
 * between peers, injected into libp2p-noise by the shell (protocol/ stays
 * runtime-free). Same cipher and bytes as every other noise implementation.
 *
 * What it saves over libp2p-noise's own node crypto, on every transport
 * message (up to 64 KiB): building the session key into a KeyObject each
 * time (a third of the cost of a message under Node 24) — each key becomes
 * a KeyObject once; and copying each sealed message once more to join it
 * to its tag — the ciphertext and its tag go out as two pieces of one list.
 * Fewer fresh buffers also means fewer of the full garbage collections V8
 * runs when much memory outside its heap is allocated. Messages under
 * SMALL_MESSAGE bytes (window updates, handshakes) keep libp2p-noise's
 * default, whose WebAssembly cipher is cheaper there.
 *
 * Decryption returns plaintext only after the tag has been checked
 * (`final()` throws on a forged or damaged message, and noise drops the
 * connection).
 */
import { Buffer } from "node:buffer";
import { createCipheriv, createDecipheriv, createSecretKey, type KeyObject } from "node:crypto";
import type { ICryptoInterface } from "@chainsafe/libp2p-noise";
import { defaultCrypto } from "@chainsafe/libp2p-noise/crypto";
import { Uint8ArrayList } from "uint8arraylist";

const CIPHER = "chacha20-poly1305";
const TAG_BYTES = 16;
/** Below this many bytes the WebAssembly cipher is cheaper than a node:crypto call (measured: crossover ~600 B). */
const SMALL_MESSAGE = 512;

/**
 * One KeyObject per session key. Keyed by the key's array (noise keeps one
 * per direction for a connection's life); the bytes are compared on every
 * use, so an array whose contents changed is never used with a stale key.
 */
const keys = new WeakMap<Uint8Array, { bytes: Buffer; key: KeyObject }>();

function keyObject(k: Uint8Array): KeyObject {
  const cached = keys.get(k);
  if (cached && cached.bytes.equals(k)) return cached.key;
  const bytes = Buffer.from(k);
  const key = createSecretKey(bytes);
  keys.set(k, { bytes, key });
  return key;
}

export const nodeNoiseCrypto: ICryptoInterface = {
  ...defaultCrypto,
  chaCha20Poly1305Encrypt(plaintext, nonce, ad, k) {
    if (plaintext.byteLength < SMALL_MESSAGE) return defaultCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, k);
    const cipher = createCipheriv(CIPHER, keyObject(k), nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(ad, { plaintextLength: plaintext.byteLength });
    const sealed = new Uint8ArrayList();
    if (plaintext instanceof Uint8Array) sealed.append(cipher.update(plaintext));
    else for (const part of plaintext) sealed.append(cipher.update(part));
    cipher.final(); // a stream cipher: nothing is held back
    sealed.append(cipher.getAuthTag());
    return sealed;
  },
  chaCha20Poly1305Decrypt(ciphertext, nonce, ad, k, dst) {
    if (ciphertext.byteLength < SMALL_MESSAGE) {
      return defaultCrypto.chaCha20Poly1305Decrypt(ciphertext, nonce, ad, k, dst);
    }
    const length = ciphertext.byteLength - TAG_BYTES;
    const decipher = createDecipheriv(CIPHER, keyObject(k), nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(ad, { plaintextLength: length });
    decipher.setAuthTag(ciphertext.subarray(length));
    if (ciphertext instanceof Uint8Array) {
      const plaintext = decipher.update(ciphertext.subarray(0, length));
      decipher.final(); // throws unless the tag matches
      return plaintext;
    }
    const plaintext = new Uint8ArrayList();
    for (const part of ciphertext.sublist(0, length)) plaintext.append(decipher.update(part));
    decipher.final(); // throws unless the tag matches
    return plaintext;
  },
};
