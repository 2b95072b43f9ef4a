/**
 * An authorization waiting for a person, between `weft mcp --http` (which
 * shows the client a short code) and `weft mcp grant CODE` (run by the
 * person, whose credentials delegate to the client's DID): the request as
 * `pending/<CODE>.json`, the person's answer as `answers/<CODE>.json`, both
 * under <home>/mcp-oauth/ (0700). Each file is written once by one side
 * (the answer exclusively: a code is answered once), so the two processes
 * never write the same file. Being able to write there is what proves the
 * person is this machine's user.
 */
import { mkdir, readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { randomInt } from "node:crypto";
import { WeftError } from "#protocol";
import { createFileExclusive } from "../../storage/atomic-file.ts";

/** How long a person has to answer. */
export const PENDING_MS = 10 * 60 * 1000;
/** The most authorizations waiting at once. */
export const MAX_PENDING = 16;
const MAX_FILE_BYTES = 64 * 1024;
/** No 0/O or 1/I/L: a code read aloud or retyped is not mistaken. */
const ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";
const CODE = /^[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}$/;

export interface PendingRequest {
  code: string;
  client: string;
  clientName: string;
  did: string;
  redirectUri: string;
  /** The commands the client asked for (from its scopes). */
  commands: string[];
  expires: number;
}

export type Answer =
  | { granted: { space: string; commands: string[]; containers: string[] }; by: string }
  | { denied: string; by: string };

export function newCode(): string {
  const pick = () => Array.from({ length: 4 }, () => ALPHABET[randomInt(ALPHABET.length)]).join("");
  return `${pick()}-${pick()}`;
}

function checkCode(code: string): string {
  const c = code.trim().toUpperCase();
  if (!CODE.test(c)) {
    throw new WeftError("McpGrant", "input/invalid", `${JSON.stringify(code)} is not a code like ABCD-EFGH`);
  }
  return c;
}

async function readJson<T>(path: string): Promise<T | undefined> {
  let raw: string;
  try {
    raw = await readFile(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
  if (raw.length > MAX_FILE_BYTES) throw new WeftError("McpGrant", "mcp/state-damaged", `${path} is too large`);
  try {
    return JSON.parse(raw) as T;
  } catch {
    throw new WeftError("McpGrant", "mcp/state-damaged", `${path} does not parse; remove it`);
  }
}

export async function writePending(dir: string, p: PendingRequest): Promise<void> {
  const pending = join(dir, "pending");
  await mkdir(pending, { recursive: true, mode: 0o700 });
  let waiting = 0;
  for (const name of await readdir(pending)) {
    const code = name.replace(/\.json$/, "");
    const old = CODE.test(code)
      ? await readJson<PendingRequest>(join(pending, name)).catch(() => undefined)
      : undefined;
    if (old && old.expires > Date.now()) waiting++;
    else await settle(dir, code);
  }
  if (waiting >= MAX_PENDING) {
    throw new WeftError(
      "McpGrant",
      "mcp/busy",
      `${MAX_PENDING} authorizations wait for a person; answer or let expire`,
    );
  }
  await createFileExclusive(join(pending, `${p.code}.json`), JSON.stringify(p));
}

/** The request a code names, if it is still waiting. */
export async function readPending(dir: string, code: string): Promise<PendingRequest | undefined> {
  const p = await readJson<PendingRequest>(join(dir, "pending", `${checkCode(code)}.json`));
  return p && p.expires > Date.now() ? p : undefined;
}

/** Answer a code, once: a second answer is refused. */
export async function writeAnswer(dir: string, code: string, answer: Answer): Promise<void> {
  const answers = join(dir, "answers");
  await mkdir(answers, { recursive: true, mode: 0o700 });
  try {
    await createFileExclusive(join(answers, `${checkCode(code)}.json`), JSON.stringify(answer));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    throw new WeftError("McpGrant", "input/invalid", `code ${code} was answered already`);
  }
}

export const readAnswer = (dir: string, code: string) =>
  readJson<Answer>(join(dir, "answers", `${checkCode(code)}.json`));

/** Remove a request and its answer once the server has acted on them (or they expired). */
export async function settle(dir: string, code: string): Promise<void> {
  await rm(join(dir, "pending", `${code}.json`), { force: true });
  await rm(join(dir, "answers", `${code}.json`), { force: true });
}
