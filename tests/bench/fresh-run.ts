/**
 * One run of a bench in a fresh process: the bench's own file started again
 * with `child <args>`, answering one JSON line on stdout. Runs compared
 * against each other (Weft against its plain baseline) must not share a
 * process: the second would inherit the first's heap, sockets and collector
 * work (mesh-replication's baseline measured ~9 s after two Weft runs and
 * 1.3–1.6 s alone).
 */
import { Buffer } from "node:buffer";
import { spawn } from "node:child_process";
import process from "node:process";

/** Whether this process is such a run; its arguments after `child` if so. */
export function childArgs(): string[] | undefined {
  return process.argv[2] === "child" ? process.argv.slice(3) : undefined;
}

/** Start `script` (a bench's import.meta.url) again as `child ...args`; the JSON it prints last. */
export function runFresh<T>(script: string, args: string[]): Promise<T> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [new URL(script).pathname, "child", ...args], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    c.stdout.on("data", (d) => (out += d));
    c.on("error", reject);
    c.on("exit", (code) => {
      if (code !== 0) return reject(new Error(`the ${args.join(" ")} run exited with ${code}`));
      try {
        resolve(JSON.parse(out.trim().split("\n").at(-1) as string) as T);
      } catch (e) {
        reject(new Error(`the ${args.join(" ")} run printed no result: ${(e as Error).message}`));
      }
    });
  });
}

/** Signed bytes as a child hands them to the next run through a file (JSON): base64 strings. */
export const toBase64 = (list: Uint8Array[]): string[] => list.map((b) => Buffer.from(b).toString("base64"));

/** The bytes `toBase64` gave. */
export const fromBase64 = (list: string[]): Uint8Array[] => list.map((s) => new Uint8Array(Buffer.from(s, "base64")));
