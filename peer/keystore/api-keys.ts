/**
 * Model providers' API keys kept in the node's keystore directory: one
 * `<name>.api-key` file each, mode 0600, refused when others can read it.
 * Only `weft llm key NAME` writes them and only the LLM router's clients
 * read them; the key never goes into a document, a log line or an error.
 */
import { mkdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "../storage/atomic-file.ts";
import { KeystoreError, refuseShared } from "./file-keystore.ts";

const NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const MAX_KEY = 4096;

function pathOf(keysDir: string, name: string): string {
  if (!NAME.test(name)) {
    throw new KeystoreError("keystore/bad-name", `API key name ${JSON.stringify(name)} must match ${NAME}`);
  }
  return join(keysDir, `${name}.api-key`);
}

/** The key stored as `name`, or undefined when there is none. */
export async function readApiKey(keysDir: string, name: string): Promise<string | undefined> {
  const path = pathOf(keysDir, name);
  let info;
  try {
    info = await stat(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
  refuseShared(path, info.mode);
  if (info.size > MAX_KEY) throw new KeystoreError("keystore/corrupt", `${path} is larger than an API key can be`);
  const key = (await readFile(path, "utf8")).trim();
  return key || undefined;
}

/** Stores `key` as `name` (replacing one there), durably, readable by this user only. */
export async function writeApiKey(keysDir: string, name: string, key: string): Promise<string> {
  const path = pathOf(keysDir, name);
  const value = key.trim();
  if (!value || value.length > MAX_KEY || /\s/.test(value)) {
    throw new KeystoreError("key/invalid", "an API key is one line of at most 4096 characters, without spaces");
  }
  await mkdir(keysDir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(path, value + "\n", 0o600);
  return path;
}
