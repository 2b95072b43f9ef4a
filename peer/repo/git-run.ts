/**
 * Run system git to completion for one short command (a ref update, a
 * listing, an index-pack): no shell, its output bounded, its stdin fed from
 * bytes or a stream, and a failure thrown as a `git/failed` error carrying
 * git's own words. Long transfers use git-child.ts directly.
 *
 * The error class is loaded only when one is thrown: `git-remote-weft`
 * runs this on every fetch and push, and #protocol/sync would load the
 * sync stack (automerge-repo, libp2p) into a process that never syncs.
 */
import { startGit } from "./git-child.ts";

async function gitError(code: "git/too-large" | "git/failed", message: string): Promise<Error> {
  const { GitTransferError } = await import("#protocol/sync");
  return new GitTransferError(code, message);
}

/** The most stdout a short git command may print (a ref listing of a large repository fits). */
const MAX_OUTPUT = 16 * 1024 * 1024;

export interface GitRunOptions {
  env?: Record<string, string>;
  input?: string | Uint8Array | AsyncIterable<Uint8Array>;
  /** Exit codes that are answers, not failures (e.g. 1 for `merge-base --is-ancestor`). */
  ok?: readonly number[];
}

export async function git(args: string[], options: GitRunOptions = {}): Promise<{ code: number; stdout: string }> {
  const child = await startGit(args, { env: options.env });
  const chunks: Buffer[] = [];
  let size = 0;
  child.stdout.on("data", (b: Buffer) => {
    size += b.length;
    if (size > MAX_OUTPUT) child.kill();
    else chunks.push(b);
  });
  const input = options.input;
  const stdin = child.stdin;
  if (input === undefined) stdin.end();
  else if (typeof input === "string" || input instanceof Uint8Array) stdin.end(input);
  else {
    (async () => {
      for await (const chunk of input) {
        if (!stdin.write(chunk)) await new Promise((r) => stdin.once("drain", r));
      }
      stdin.end();
    })().catch(() => child.kill());
  }
  const code = await child.exited;
  if (size > MAX_OUTPUT) {
    throw await gitError("git/too-large", `git ${args[0]} printed more than ${MAX_OUTPUT} bytes`);
  }
  if (code !== 0 && !(code !== null && options.ok?.includes(code))) {
    throw await gitError("git/failed", `git ${args.join(" ").slice(0, 200)} failed: ${child.stderr()}`);
  }
  return { code: code as number, stdout: Buffer.concat(chunks).toString("utf8") };
}
