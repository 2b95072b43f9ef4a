/**
 * The NIP-44 encryption the Nostr bridge uses, cross-checked against the
 * official test vectors (paulmillr/nip44's nip44.vectors.json, the file whose
 * sha256 the NIP itself publishes; tests/fixtures/nip44/README.md says where
 * it comes from). Conversation keys and decryption go through the bridge's
 * own bounded entry (bridges/nostr/nip44.ts); encryption is nostr-tools'
 * (the same source its nip59 bundles and the bridge's replies are sealed
 * with). Message keys are checked through encryption with an independent
 * ChaCha20 and HMAC (node:crypto): the ciphertext and MAC nostr-tools writes
 * must be exactly what the vector's keys give.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createCipheriv, createHash, createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { getPublicKey, type NostrEvent } from "nostr-tools/pure";
import { v2 } from "nostr-tools/nip44";
import { wrapEvent } from "nostr-tools/nip17";
import { generateSecretKey } from "nostr-tools/pure";
import {
  conversationKey,
  decryptPayload,
  fitDmText,
  MAX_DM_TEXT_BYTES,
  NIP44_MAX_PAYLOAD,
} from "../../../bridges/nostr/nip44.ts";
import { unwrapDm } from "../../../bridges/nostr/unwrap.ts";

const FILE = new URL("../../fixtures/nip44/nip44.vectors.json", import.meta.url);
const hex = (h: string) => Uint8Array.from(Buffer.from(h, "hex"));
const toHex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const sha256 = (b: Uint8Array | string) => createHash("sha256").update(b).digest("hex");

interface Vectors {
  v2: {
    valid: {
      get_conversation_key: Array<{ sec1: string; pub2: string; conversation_key: string }>;
      get_message_keys: {
        conversation_key: string;
        keys: Array<{ nonce: string; chacha_key: string; chacha_nonce: string; hmac_key: string }>;
      };
      calc_padded_len: Array<[number, number]>;
      encrypt_decrypt: Array<
        { sec1: string; sec2: string; conversation_key: string; nonce: string; plaintext: string; payload: string }
      >;
      encrypt_decrypt_long_msg: Array<{
        conversation_key: string;
        nonce: string;
        pattern: string;
        repeat: number;
        plaintext_sha256: string;
        payload_sha256: string;
      }>;
    };
    invalid: {
      encrypt_msg_lengths: number[];
      get_conversation_key: Array<{ sec1: string; pub2: string; note: string }>;
      decrypt: Array<{ conversation_key: string; nonce: string; plaintext: string; payload: string; note: string }>;
    };
  };
}

const bytes = readFileSync(FILE);
const { v2: vectors } = JSON.parse(bytes.toString("utf8")) as Vectors;

describe("NIP-44 v2 against the official vectors", () => {
  it("is the file the NIP names by its sha256", () => {
    assert.equal(sha256(bytes), "269ed0f69e4c192512cc779e78c555090cebc7c785b609e338a62afc3ce25040");
  });

  it("derives every conversation key", () => {
    assert.equal(vectors.valid.get_conversation_key.length, 35);
    for (const v of vectors.valid.get_conversation_key) {
      assert.equal(toHex(conversationKey(hex(v.sec1), v.pub2)), v.conversation_key, `sec1 ${v.sec1}`);
    }
  });

  it("refuses every invalid key pair", () => {
    assert.equal(vectors.invalid.get_conversation_key.length, 8);
    for (const v of vectors.invalid.get_conversation_key) {
      assert.throws(() => conversationKey(hex(v.sec1), v.pub2), Error, v.note);
    }
  });

  it("encrypts under exactly the vectors' message keys (ChaCha20 key and nonce, HMAC key)", () => {
    const { conversation_key, keys } = vectors.valid.get_message_keys;
    assert.equal(keys.length, 32);
    const plaintext = "weft: the message keys";
    for (const k of keys) {
      const raw = Buffer.from(v2.encrypt(plaintext, hex(conversation_key), hex(k.nonce)), "base64");
      assert.equal(raw[0], 2, "version 2");
      assert.equal(toHex(raw.subarray(1, 33)), k.nonce);
      const ciphertext = raw.subarray(33, -32);
      // RFC 8439 ChaCha20 as OpenSSL takes it: a 16-byte IV of a 32-bit little-endian counter (0) and the nonce.
      const iv = Buffer.concat([Buffer.alloc(4), hex(k.chacha_nonce)]);
      const decipher = createCipheriv("chacha20", hex(k.chacha_key), iv);
      const padded = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
      assert.equal(padded.readUInt16BE(0), plaintext.length, "the length prefix");
      assert.equal(padded.subarray(2, 2 + plaintext.length).toString("utf8"), plaintext);
      assert.ok(padded.subarray(2 + plaintext.length).every((b) => b === 0), "zero padding");
      const mac = createHmac("sha256", hex(k.hmac_key)).update(Buffer.concat([hex(k.nonce), ciphertext])).digest();
      assert.equal(toHex(raw.subarray(-32)), toHex(mac), `MAC for nonce ${k.nonce}`);
    }
  });

  it("pads every length as the vectors say", () => {
    for (const [len, padded] of vectors.valid.calc_padded_len) assert.equal(v2.utils.calcPaddedLen(len), padded);
  });

  it("encrypts with the given nonce to the vector's payload, and decrypts it, both ways round", () => {
    assert.equal(vectors.valid.encrypt_decrypt.length, 10);
    for (const v of vectors.valid.encrypt_decrypt) {
      const key = hex(v.conversation_key);
      assert.equal(toHex(conversationKey(hex(v.sec1), getPublicKey(hex(v.sec2)))), v.conversation_key);
      assert.equal(toHex(conversationKey(hex(v.sec2), getPublicKey(hex(v.sec1)))), v.conversation_key);
      assert.equal(v2.encrypt(v.plaintext, key, hex(v.nonce)), v.payload);
      assert.equal(decryptPayload(v.payload, key), v.plaintext);
    }
  });

  it("encrypts and decrypts the long messages, up to the 65,535-byte maximum", () => {
    for (const v of vectors.valid.encrypt_decrypt_long_msg) {
      const plaintext = v.pattern.repeat(v.repeat);
      assert.equal(sha256(plaintext), v.plaintext_sha256);
      const payload = v2.encrypt(plaintext, hex(v.conversation_key), hex(v.nonce));
      assert.equal(sha256(payload), v.payload_sha256);
      assert.ok(payload.length <= NIP44_MAX_PAYLOAD);
      assert.equal(decryptPayload(payload, hex(v.conversation_key)), plaintext);
    }
  });

  it("refuses every invalid payload (version, base64, MAC, padding, length)", () => {
    assert.equal(vectors.invalid.decrypt.length, 12);
    for (const v of vectors.invalid.decrypt) {
      assert.throws(() => decryptPayload(v.payload, hex(v.conversation_key)), Error, v.note);
    }
  });

  it("makes no payload it would accept of a message of an invalid length", () => {
    // nostr-tools 2.25 writes plaintexts over 65,535 bytes in an extended form; the bridge reads none of them.
    // The 10 MB case is encrypted only up to 100,000 bytes: the refusal is by the payload's length, which only grows.
    const key = hex(vectors.valid.get_message_keys.conversation_key);
    assert.deepEqual(vectors.invalid.encrypt_msg_lengths, [0, 65_536, 100_000, 10_000_000]);
    assert.throws(() => v2.encrypt("", key), /invalid plaintext size/);
    for (const length of [65_536, 100_000]) {
      assert.throws(() => decryptPayload(v2.encrypt("x".repeat(length), key), key), /87472 characters/, `${length}`);
    }
    for (const length of vectors.invalid.encrypt_msg_lengths) {
      assert.ok(Buffer.byteLength(fitDmText("x".repeat(length))) <= MAX_DM_TEXT_BYTES, "the bridge sends none of them");
    }
  });
});

describe("what the bridge sends fits NIP-44", () => {
  it("cuts a DM's text to the bound, on a character boundary, and says so", () => {
    assert.equal(fitDmText("status: fine"), "status: fine");
    const long = "é".repeat(40_000) + "🦊".repeat(10_000); // 80,000 + 40,000 bytes
    const cut = fitDmText(long);
    assert.match(cut, /…\(cut: longer than a DM carries\)$/);
    assert.ok(Buffer.byteLength(JSON.stringify(cut)) - 2 <= MAX_DM_TEXT_BYTES);
    assert.ok(long.startsWith(cut.slice(0, cut.indexOf("\n…"))));
    const quotes = fitDmText('"'.repeat(MAX_DM_TEXT_BYTES)); // each escapes to two bytes
    assert.ok(Buffer.byteLength(JSON.stringify(quotes)) - 2 <= MAX_DM_TEXT_BYTES);
    assert.ok(!/[\ud800-\udbff]\n/.test(fitDmText("🦊".repeat(20_000))), "no half of a surrogate pair");
  });

  it("seals the largest text it sends into standard payloads the bridge itself opens", () => {
    const bridge = generateSecretKey();
    const person = generateSecretKey();
    for (const text of ["\u0001".repeat(20_000), "🦊".repeat(20_000), '"'.repeat(40_000), "x".repeat(90_000)]) {
      const fitted = fitDmText(text);
      const wrap = wrapEvent(bridge, { publicKey: getPublicKey(person) }, fitted) as NostrEvent;
      assert.ok(wrap.content.length <= NIP44_MAX_PAYLOAD, `wrap payload ${wrap.content.length}`);
      const rumor = unwrapDm(wrap, person, getPublicKey(person), NIP44_MAX_PAYLOAD);
      assert.equal(rumor.content, fitted);
    }
  });
});
