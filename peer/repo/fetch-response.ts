/**
 * The asking side's reader of what `git upload-pack` (protocol v2) sends
 * over `/weft/git/1`, as a Writable the stream is piped into: the
 * capability advertisement (handed to `onAdvert`, which sends the fetch
 * request), then the response to a fetch that said "done" — one
 * `packfile` section whose side-band-64k pkt-lines carry the pack (band 1,
 * written straight to `pack`: `git index-pack --stdin`), progress (band 2,
 * dropped) and a fatal error (band 3), ended by a flush. Pack bytes are
 * passed on as views of what arrived, never copied; every other line is
 * bounded by the pkt-line format (at most 65,516 bytes). Anything else —
 * a malformed length, an unexpected section, an ERR line, bytes missing
 * at the end — fails the write with a GitTransferError, and `pack` is not
 * ended (the caller kills index-pack).
 */
import { Writable } from "node:stream";
import { GitTransferError } from "#protocol/sync";

/** The longest pkt-line: its 4-byte length included (gitprotocol-common). */
const MAX_PKT = 65520;
const FLUSH = 0, DELIM = 1, RESPONSE_END = 2;

type Phase = "advert" | "answer" | "pack" | "done";

function malformed(message: string): GitTransferError {
  return new GitTransferError("sync/protocol", `the peer's git answer is malformed: ${message}`);
}

const latin1 = (bytes: Uint8Array) => String.fromCharCode(...bytes);
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes).replace(/\n$/, "");

export class FetchResponse extends Writable {
  readonly #pack: Writable;
  readonly #onAdvert: (capabilities: string[]) => void;
  #phase: Phase = "advert";
  readonly #capabilities: string[] = [];
  /** The length (and, in the pack, band) of the next packet, as far as it has arrived. */
  readonly #header = new Uint8Array(5);
  #headerFilled = 0;
  /** Payload bytes of the current packet still to come (0: between packets). */
  #remaining = 0;
  #band = 0;
  /** The current packet's payload, unless it is pack data. */
  #line: Uint8Array | undefined;
  #lineFilled = 0;

  constructor(pack: Writable, onAdvert: (capabilities: string[]) => void) {
    super({ highWaterMark: 1024 * 1024 });
    this.#pack = pack;
    this.#onAdvert = onAdvert;
  }

  override _write(chunk: Uint8Array, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    let full = false;
    try {
      for (let i = 0; i < chunk.length;) {
        if (this.#phase === "done") break; // upload-pack waits for another command: nothing more is read
        if (this.#remaining === 0) {
          i = this.#readHeader(chunk, i);
          continue;
        }
        const n = Math.min(this.#remaining, chunk.length - i);
        const part = chunk.subarray(i, i + n);
        i += n;
        this.#remaining -= n;
        if (this.#phase === "pack" && this.#band === 1) {
          if (!this.#pack.write(part)) full = true;
          continue;
        }
        this.#line!.set(part, this.#lineFilled);
        this.#lineFilled += n;
        if (this.#remaining === 0) this.#onLine(this.#line!);
      }
    } catch (error) {
      return callback(error as Error);
    }
    // Once the pack is ended it emits no "drain": nothing more goes to it, so there is nothing to wait for.
    if (full && this.#phase !== "done") this.#pack.once("drain", () => callback());
    else callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.#phase !== "done") return callback(malformed("the stream ended before the pack was complete"));
    callback();
  }

  /** Read (part of) a packet's header from `chunk` at `i`; returns where reading stops. */
  #readHeader(chunk: Uint8Array, i: number): number {
    const want = this.#phase === "pack" ? 5 : 4;
    while (this.#headerFilled < 4 && i < chunk.length) this.#header[this.#headerFilled++] = chunk[i++];
    if (this.#headerFilled < 4) return i;
    const hex = latin1(this.#header.subarray(0, 4));
    if (!/^[0-9a-f]{4}$/.test(hex)) throw malformed(`a pkt-line length ${JSON.stringify(hex)}`);
    const length = parseInt(hex, 16);
    if (length < 4) {
      this.#headerFilled = 0;
      this.#onSpecial(length);
      return i;
    }
    if (length > MAX_PKT || length < want + (want === 5 ? 0 : 1)) throw malformed(`a pkt-line of ${length} bytes`);
    while (this.#headerFilled < want && i < chunk.length) this.#header[this.#headerFilled++] = chunk[i++];
    if (this.#headerFilled < want) return i;
    this.#headerFilled = 0;
    this.#remaining = length - want;
    if (this.#phase === "pack") {
      this.#band = this.#header[4];
      if (this.#band < 1 || this.#band > 3) throw malformed(`side-band ${this.#band}`);
      if (this.#band === 1) {
        this.#line = undefined;
        return i;
      }
    }
    this.#line = new Uint8Array(this.#remaining);
    this.#lineFilled = 0;
    if (this.#remaining === 0) this.#onLine(this.#line);
    return i;
  }

  #onSpecial(length: number): void {
    if (length > RESPONSE_END) throw malformed(`a pkt-line of ${length} bytes`);
    if (length === FLUSH && this.#phase === "advert") {
      if (this.#capabilities[0] !== "version 2") throw malformed("no protocol v2 capability advertisement");
      this.#phase = "answer";
      this.#onAdvert(this.#capabilities.slice(1));
      return;
    }
    if (length === FLUSH && this.#phase === "pack") {
      this.#phase = "done";
      this.#pack.end();
      return;
    }
    const name = length === DELIM ? "delimiter" : length === RESPONSE_END ? "response-end" : "flush";
    throw malformed(`an unexpected ${name} packet ${this.#phase === "answer" ? "before the pack" : "in the pack"}`);
  }

  #onLine(payload: Uint8Array): void {
    const line = text(payload);
    if (line.startsWith("ERR ")) throw new GitTransferError("git/failed", `the peer's git: ${line.slice(4)}`);
    if (this.#phase === "advert") {
      this.#capabilities.push(line);
      return;
    }
    if (this.#phase === "answer") {
      if (line !== "packfile") throw malformed(`a "${line.slice(0, 80)}" section where the pack was due`);
      this.#phase = "pack";
      return;
    }
    // In the pack: band 2 is progress (not asked for, dropped); band 3 is git's last word.
    if (this.#band === 3) throw new GitTransferError("git/failed", `the peer's git: ${line.slice(0, 1000)}`);
  }
}
