/**
 * The asking peer's reader of upload-pack's protocol v2 answer
 * (peer/repo/fetch-response.ts), fed bytes as a peer would send them:
 * the pack reaches index-pack's stdin intact however the bytes are cut,
 * progress is dropped, and every malformed or failed answer is refused
 * with a typed error without ending the pack (index-pack is then killed).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import { FetchResponse } from "../../peer/repo/fetch-response.ts";
import { encodeFetchRequest } from "../../peer/repo/fetch-request.ts";

const pkt = (payload: Uint8Array | string) => {
  const body = typeof payload === "string" ? Buffer.from(payload) : payload;
  return Buffer.concat([Buffer.from((body.length + 4).toString(16).padStart(4, "0")), body]);
};
const band = (n: number, data: Uint8Array | string) => pkt(Buffer.concat([Buffer.of(n), Buffer.from(data)]));
const ADVERT = Buffer.concat([
  pkt("version 2\n"),
  pkt("agent=git/2.47\n"),
  pkt("fetch=shallow\n"),
  Buffer.from("0000"),
]);

/** Feed `bytes` in pieces of `piece` bytes; resolves with what reached the pack, the advert, and any error. */
async function feed(bytes: Uint8Array, piece: number, slow = false) {
  const packed: Buffer[] = [];
  let ended = false;
  const pack = new Writable({
    write(chunk, _e, cb) {
      packed.push(chunk);
      // A slow index-pack: its buffer fills, and the reader must wait for its "drain".
      if (slow) setImmediate(cb);
      else cb();
    },
    final(cb) {
      ended = true;
      cb();
    },
  });
  let advert: string[] | undefined;
  const response = new FetchResponse(pack, (capabilities) => (advert = capabilities));
  const error = await new Promise<Error | undefined>((resolve) => {
    response.on("error", resolve);
    // Done when the reader is, and the pack has taken everything it was given.
    response.on(
      "finish",
      () => pack.writableFinished ? resolve(undefined) : pack.on("finish", () => resolve(undefined)),
    );
    for (let i = 0; i < bytes.length; i += piece) response.write(bytes.subarray(i, i + piece));
    response.end();
  });
  return { pack: Buffer.concat(packed), ended, advert, error: error as (Error & { code?: string }) | undefined };
}

describe("the asking peer's reader of upload-pack's answer", () => {
  const data = randomBytes(200_000);
  const bands = [];
  for (let i = 0; i < data.length; i += 65515) bands.push(band(1, data.subarray(i, i + 65515)));
  const answer = Buffer.concat([
    ADVERT,
    pkt("packfile\n"),
    band(2, "Enumerating objects: 3\n"),
    ...bands,
    Buffer.from("0000"),
  ]);

  for (const piece of [1, 3, 4, 5, 4096, 65536, answer.length]) {
    it(`passes the pack on intact in pieces of ${piece} bytes, drops progress, and ends it at the flush`, async () => {
      const got = await feed(answer, piece);
      assert.equal(got.error, undefined);
      assert.deepEqual(got.advert, ["agent=git/2.47", "fetch=shallow"]);
      assert.ok(got.pack.equals(data));
      assert.equal(got.ended, true);
    });
  }

  it("finishes when the pack's end comes in the same piece as data a slow index-pack has not taken yet", {
    timeout: 10_000,
  }, async () => {
    for (const piece of [65536, answer.length]) {
      const got = await feed(answer, piece, true);
      assert.equal(got.error, undefined);
      assert.ok(got.pack.equals(data));
      assert.equal(got.ended, true);
    }
  });

  const refusals: [string, Uint8Array, string, RegExp][] = [
    ["a length that is not hex", Buffer.from("zzzz"), "sync/protocol", /length/],
    ["a length past 65,520", Buffer.from("fff1"), "sync/protocol", /65521/],
    ["a reserved length", Buffer.from("0003"), "sync/protocol", /3 bytes/],
    ["no v2 advertisement", Buffer.concat([pkt("version 1\n"), Buffer.from("0000")]), "sync/protocol", /v2/],
    ["an ERR line", pkt("ERR upload-pack: not our ref\n"), "git/failed", /not our ref/],
    ["a section other than the pack", Buffer.concat([ADVERT, pkt("acknowledgments\n")]), "sync/protocol", /ackn/],
    ["an unknown band", Buffer.concat([ADVERT, pkt("packfile\n"), band(4, "x")]), "sync/protocol", /side-band 4/],
    [
      "a fatal error on band 3",
      Buffer.concat([ADVERT, pkt("packfile\n"), band(3, "fatal: disk full\n")]),
      "git/failed",
      /disk full/,
    ],
    ["a pack cut short", Buffer.concat([ADVERT, pkt("packfile\n"), band(1, "PACK")]), "sync/protocol", /ended before/],
    [
      "a delimiter in the pack",
      Buffer.concat([ADVERT, pkt("packfile\n"), Buffer.from("0001")]),
      "sync/protocol",
      /delimiter/,
    ],
  ];
  for (const [what, bytes, code, message] of refusals) {
    it(`refuses ${what}, and leaves the pack unended`, async () => {
      const got = await feed(bytes, 2);
      assert.equal(got.error?.code, code);
      assert.match(got.error!.message, message);
      assert.equal(got.ended, false);
    });
  }
});

describe("the asking peer's fetch request", () => {
  it("names the wants and haves, says done, and keeps the peer's object format", () => {
    const text = new TextDecoder().decode(
      encodeFetchRequest(["fetch=shallow", "object-format=sha1"], ["a".repeat(40)], ["b".repeat(40)]),
    );
    assert.equal(
      text,
      "0012command=fetch\n0017object-format=sha1\n0001000ethin-pack\n000eofs-delta\n0010no-progress\n" +
        `0032want ${"a".repeat(40)}\n0032have ${"b".repeat(40)}\n0009done\n0000`,
    );
  });

  it("is not sent to a git that does not offer fetch", () => {
    assert.throws(() => encodeFetchRequest(["ls-refs"], ["a".repeat(40)], []), { code: "sync/protocol" });
  });
});
