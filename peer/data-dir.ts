/**
 * Where a peer keeps its state: `$WEFT_HOME`, else `./.weft` under the
 * working directory. Created 0700 on first use.
 */
import { mkdir } from "node:fs/promises";
import { resolve } from "node:path";
import process from "node:process";

export function dataDirFromEnv(env: Record<string, string | undefined> = process.env): string {
  const home = env.WEFT_HOME;
  return resolve(home && home.length > 0 ? home : ".weft");
}

export async function ensureDataDir(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  return dir;
}
