/**
 * Splits a job's stdout or stderr into log lines as bytes arrive: a line is
 * sent as soon as its newline does, a line longer than the cap is sent in
 * pieces, and what is left at the end is flushed. Counts every byte, since
 * logs count against the run's output limit.
 */
import type { Readable } from "node:stream";
import { StringDecoder } from "node:string_decoder";

export const MAX_LINE = 16 * 1024;

export function splitLines(stream: Readable, line: (text: string) => void, bytes: (n: number) => void): Promise<void> {
  const decoder = new StringDecoder("utf8");
  let pending = "";
  const take = (text: string) => {
    pending += text;
    let nl: number;
    while ((nl = pending.indexOf("\n")) >= 0 || pending.length >= MAX_LINE) {
      const end = nl >= 0 && nl < MAX_LINE ? nl : MAX_LINE;
      line(pending.slice(0, end));
      pending = pending.slice(end + (end === nl ? 1 : 0));
    }
  };
  return new Promise((resolve) => {
    stream.on("data", (chunk: Buffer) => {
      bytes(chunk.length);
      take(decoder.write(chunk));
    });
    stream.on("close", () => {
      take(decoder.end());
      if (pending.length > 0) line(pending);
      resolve();
    });
  });
}
