/**
 * The peer's noise cipher (node:crypto, one KeyObject per session key):
 * the same bytes as libp2p-noise's own ciphers both ways, for messages on
 * either side of its small-message cut and for ciphertext split across
 * reads; a changed byte anywhere in a message or its tag is refused, never
 * returned as plaintext; a key array whose bytes change is not served
 * from the cache; and a peer using it talks to one using libp2p-noise's
 * default over real libp2p, bulk data intact both ways.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { tcp } from "@libp2p/tcp";
import { pureJsCrypto } from "@chainsafe/libp2p-noise";
import { Uint8ArrayList } from "uint8arraylist";
import type { Stream } from "@libp2p/interface";
import { nodeNoiseCrypto } from "../../peer/crypto/noise-crypto.ts";
import { createWeftLibp2p, stopWeftLibp2p } from "../../protocol/node/libp2p.ts";
import { generateSeed } from "../../protocol/identity/ed25519.ts";

/** Any result as a Buffer, so results of either cipher compare by their bytes alone. */
const bytesOf = (data: Uint8Array | Uint8ArrayList) => {
  const bytes = data instanceof Uint8Array ? data : data.subarray();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
};
const nonce = (n: number) => {
  const bytes = new Uint8Array(12);
  new DataView(bytes.buffer).setUint32(4, n, true);
  return bytes;
};
/** Message sizes around the small-message cut, up to noise's largest. */
const SIZES = [0, 1, 100, 511, 512, 513, 4096, 65519];

describe("the peer's noise cipher", () => {
  it("seals and opens the same bytes as libp2p-noise's pure-JS cipher, both ways", () => {
    const k = randomBytes(32), ad = randomBytes(32);
    for (const size of SIZES) {
      const plaintext = randomBytes(size);
      const ours = bytesOf(nodeNoiseCrypto.chaCha20Poly1305Encrypt(plaintext, nonce(size), ad, k));
      const theirs = bytesOf(pureJsCrypto.chaCha20Poly1305Encrypt(plaintext, nonce(size), ad, k));
      assert.deepEqual(ours, theirs, `sealed ${size} bytes`);
      assert.deepEqual(bytesOf(nodeNoiseCrypto.chaCha20Poly1305Decrypt(theirs, nonce(size), ad, k)), plaintext);
      assert.deepEqual(bytesOf(pureJsCrypto.chaCha20Poly1305Decrypt(ours, nonce(size), ad, k)), plaintext);
    }
  });

  it("takes plaintext and ciphertext split into pieces, as they arrive from the network", () => {
    const k = randomBytes(32), ad = new Uint8Array(0);
    const plaintext = randomBytes(65519);
    const pieces = (bytes: Uint8Array) =>
      new Uint8ArrayList(bytes.subarray(0, 7), bytes.subarray(7, 30000), bytes.subarray(30000));
    const sealed = bytesOf(pureJsCrypto.chaCha20Poly1305Encrypt(plaintext, nonce(1), ad, k));
    assert.deepEqual(bytesOf(nodeNoiseCrypto.chaCha20Poly1305Encrypt(pieces(plaintext), nonce(1), ad, k)), sealed);
    // The tag itself split across two pieces.
    const split = new Uint8ArrayList(sealed.subarray(0, sealed.length - 5), sealed.subarray(sealed.length - 5));
    assert.deepEqual(bytesOf(nodeNoiseCrypto.chaCha20Poly1305Decrypt(split, nonce(1), ad, k)), plaintext);
  });

  it("refuses a message with any byte of its ciphertext, tag, nonce or associated data changed", () => {
    const k = randomBytes(32), ad = randomBytes(32);
    for (const size of [100, 65519]) {
      const sealed = bytesOf(pureJsCrypto.chaCha20Poly1305Encrypt(randomBytes(size), nonce(7), ad, k));
      for (const at of [0, size >> 1, size - 1, size, sealed.length - 1]) {
        const forged = Uint8Array.from(sealed);
        forged[at] ^= 0x01;
        assert.throws(() => nodeNoiseCrypto.chaCha20Poly1305Decrypt(forged, nonce(7), ad, k), `byte ${at} of ${size}`);
      }
      assert.throws(() => nodeNoiseCrypto.chaCha20Poly1305Decrypt(sealed, nonce(8), ad, k), "another nonce");
      assert.throws(() => nodeNoiseCrypto.chaCha20Poly1305Decrypt(sealed, nonce(7), randomBytes(32), k), "other ad");
      assert.throws(() => nodeNoiseCrypto.chaCha20Poly1305Decrypt(sealed, nonce(7), ad, randomBytes(32)), "other key");
    }
  });

  it("never seals with a cached key whose array's bytes have since changed", () => {
    const k = randomBytes(32), ad = new Uint8Array(0), plaintext = randomBytes(4096);
    nodeNoiseCrypto.chaCha20Poly1305Encrypt(plaintext, nonce(0), ad, k); // cached
    k[0] ^= 0xff;
    assert.deepEqual(
      bytesOf(nodeNoiseCrypto.chaCha20Poly1305Encrypt(plaintext, nonce(0), ad, k)),
      bytesOf(pureJsCrypto.chaCha20Poly1305Encrypt(plaintext, nonce(0), ad, k)),
    );
  });

  it("carries bulk data intact both ways between a peer using it and one using libp2p-noise's default", async () => {
    const PROTOCOL = "/weft-test/echo/1";
    const ours = await createWeftLibp2p({
      seed: generateSeed(),
      transports: [tcp()],
      listen: ["/ip4/127.0.0.1/tcp/0"],
      noiseCrypto: nodeNoiseCrypto,
    });
    const theirs = await createWeftLibp2p({
      seed: generateSeed(),
      transports: [tcp()],
      listen: ["/ip4/127.0.0.1/tcp/0"],
    });
    try {
      // Each side echoes what it reads; the dialer compares what comes back with what it sent.
      for (const node of [ours, theirs]) {
        await node.handle(PROTOCOL, (stream: Stream) => {
          stream.addEventListener("message", (e) => {
            if (!stream.send(e.data)) stream.pause(), stream.onDrain().then(() => stream.resume());
          });
          stream.addEventListener("remoteCloseWrite", () => void stream.close());
        });
      }
      const payload = randomBytes(3 * 1024 * 1024 + 17);
      for (const [from, to] of [[ours, theirs], [theirs, ours]]) {
        const stream = await from.dialProtocol(to.getMultiaddrs()[0], PROTOCOL);
        const back: Uint8Array[] = [];
        stream.addEventListener("message", (e) => back.push(e.data.subarray()));
        const ended = new Promise((resolve) => stream.addEventListener("remoteCloseWrite", resolve));
        for (let at = 0; at < payload.length; at += 100_000) {
          if (!stream.send(payload.subarray(at, at + 100_000))) await stream.onDrain();
        }
        await stream.close();
        await ended;
        assert.ok(Buffer.concat(back).equals(payload), "the echo matches what was sent");
      }
    } finally {
      await stopWeftLibp2p(ours);
      await stopWeftLibp2p(theirs);
    }
  });
});
