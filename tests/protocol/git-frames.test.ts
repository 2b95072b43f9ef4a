/**
 * The opening frames of `/weft/git/1` (protocol/sync/git-frames.ts), on any
 * runtime: a request round-trips; what a hostile asker may send — a length
 * past the limit, a prefix that never ends, bytes that are not CBOR, a
 * shape with extra fields, wants that are no object ids, names that are
 * paths, too many wants — is refused with a typed error before anything
 * past the frame is read; an answer says go or carries its refusal's code.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as cborg from "cborg";
import {
  checkGitRequest,
  decodeGitRequest,
  encodeGitAnswer,
  encodeGitRequest,
  MAX_GIT_REQUEST_BYTES,
  MAX_GIT_WANTS,
  readGitAnswer,
} from "../../protocol/sync/git-frames.ts";
import { splitFrame } from "../../protocol/sync/length-frames.ts";
import { didFromPublicKey } from "../../protocol/identity/index.ts";

const space = didFromPublicKey(new Uint8Array(32).fill(7));
const sha1 = "a".repeat(40);
const sha256 = "b".repeat(64);

/** The body of a length-prefixed frame. */
function body(frame: Uint8Array): Uint8Array {
  const split = splitFrame(frame, MAX_GIT_REQUEST_BYTES);
  assert.ok(split);
  assert.equal(split.rest.length, 0);
  return split.frame;
}

describe("git opening frames", () => {
  it("a request round-trips, with sha-1 and sha-256 ids", () => {
    const request = { space, repo: "app.git", wants: [sha1, sha256] };
    assert.deepEqual(decodeGitRequest(body(encodeGitRequest(request))), request);
  });

  it("splits a frame from what follows it, and waits for a frame not all there", () => {
    const frame = encodeGitRequest({ space, repo: "app", wants: [sha1] });
    const joined = new Uint8Array(frame.length + 3);
    joined.set(frame);
    joined.set([1, 2, 3], frame.length);
    assert.deepEqual([...splitFrame(joined, MAX_GIT_REQUEST_BYTES)!.rest], [1, 2, 3]);
    assert.equal(splitFrame(frame.subarray(0, frame.length - 1), MAX_GIT_REQUEST_BYTES), undefined);
    assert.equal(splitFrame(new Uint8Array(0), MAX_GIT_REQUEST_BYTES), undefined);
  });

  it("refuses a length past the limit on the prefix alone, and a prefix that never ends", () => {
    assert.throws(() => splitFrame(Uint8Array.from([0x81, 0x80, 0x04]), MAX_GIT_REQUEST_BYTES), {
      code: "input/too-large",
    });
    assert.throws(() => splitFrame(Uint8Array.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x01]), 2 ** 40), {
      code: "sync/protocol",
    });
  });

  it("refuses bytes that are not CBOR, and CBOR of the wrong shape", () => {
    assert.throws(() => decodeGitRequest(Uint8Array.from([0xff, 0x00])), { code: "sync/protocol" });
    for (
      const bad of [
        [space, "app", [sha1]],
        { space, repo: "app", wants: [sha1], more: true },
        { space: "did:web:example.com", repo: "app", wants: [sha1] },
        { space, repo: "app", wants: ["HEAD"] },
        { space, repo: "app", wants: [sha1.toUpperCase()] },
        { space, repo: "app", wants: ["a".repeat(41)] },
        { space, repo: "app", wants: [] },
        { space, repo: "app", wants: Array(MAX_GIT_WANTS + 1).fill(sha1) },
        { space, repo: "../app", wants: [sha1] },
        { space, repo: "a/b", wants: [sha1] },
        { space, repo: ".git", wants: [sha1] },
        { space, repo: "app..git", wants: [sha1] },
        { space, repo: "app.lock", wants: [sha1] },
        { space, repo: "x".repeat(101), wants: [sha1] },
      ]
    ) {
      assert.throws(() => decodeGitRequest(cborg.encode(bad)), { code: "sync/protocol" }, JSON.stringify(bad));
    }
  });

  it("checks a request the caller builds the same way, before it is sent", () => {
    assert.throws(() => encodeGitRequest({ space, repo: "app", wants: ["main"] }), { code: "input/invalid" });
    assert.throws(() => checkGitRequest({ space, repo: "..", wants: [sha1] }), { code: "input/invalid" });
  });

  it("the largest request fits its limit", () => {
    const frame = encodeGitRequest({ space, repo: "r".repeat(100), wants: Array(MAX_GIT_WANTS).fill(sha256) });
    assert.ok(frame.length <= MAX_GIT_REQUEST_BYTES, `${frame.length} bytes`);
  });

  it("an answer says go, or carries its refusal's code and message", () => {
    const split = (frame: Uint8Array) => splitFrame(frame, 4096)!.frame;
    assert.equal(readGitAnswer(split(encodeGitAnswer({ ok: true }))), undefined);
    assert.throws(() => readGitAnswer(split(encodeGitAnswer({ code: "git/busy", message: "retry" }))), {
      code: "git/busy",
      message: "the peer refused: retry",
    });
    // A code this build does not know is a refusal all the same.
    assert.throws(() => readGitAnswer(cborg.encode({ code: "no/such-code", message: "?" })), { code: "sync/refused" });
    assert.throws(() => readGitAnswer(cborg.encode({ ok: "yes" })), { code: "sync/protocol" });
  });
});
