/**
 * Where a peer keeps its state: `$WEFT_HOME`, else `./.weft` under the
 * working directory. It holds the node's key, the CLI's credentials and
 * every space's documents, so only its owner may enter it: it is created
 * 0700, one the user made wider (say 0755) is tightened to 0700, and a peer
 * that cannot do that (it does not own the directory) refuses to start.
 */
import { chmod, mkdir, stat } from "node:fs/promises";
import { resolve } from "node:path";
import process from "node:process";
import { WeftError } from "#protocol";

export function dataDirFromEnv(env: Record<string, string | undefined> = process.env): string {
  const home = env.WEFT_HOME;
  return resolve(home && home.length > 0 ? home : ".weft");
}

/** What ensureDataDir did to an existing directory's mode, for the log. */
export interface DataDir {
  dir: string;
  /** The mode it had, when it was wider than 0700 and has been tightened. */
  tightenedFrom?: number;
}

export async function ensureDataDir(dir: string): Promise<DataDir> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const s = await stat(dir);
  if (!s.isDirectory()) {
    throw new WeftError("DataDir", "home/not-a-directory", `${dir} is not a directory; point WEFT_HOME at one`);
  }
  const mode = s.mode & 0o777;
  if ((mode & 0o077) === 0) return { dir };
  const refuse = (why: string) =>
    new WeftError(
      "DataDir",
      "home/permissions",
      `${dir} is open to other users (mode ${mode.toString(8)}) and ${why}; ` +
        `it holds this peer's private key: run \`chmod 700 ${dir}\` as its owner, or use another WEFT_HOME`,
    );
  if (process.getuid && s.uid !== process.getuid()) throw refuse(`belongs to uid ${s.uid}, not to this user`);
  try {
    await chmod(dir, 0o700);
  } catch (e) {
    throw refuse(`cannot be made private (${(e as NodeJS.ErrnoException).code ?? e})`);
  }
  return { dir, tightenedFrom: mode };
}
