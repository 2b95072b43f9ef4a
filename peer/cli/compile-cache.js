/**
 * Node's compile cache for the plain-JavaScript entries (`weft`,
 * `git-remote-weft`): turned on before any TypeScript loads, so every
 * module a command imports comes stripped and compiled from the cache after
 * its first run and Node's TypeScript stripper (amaro) is never loaded.
 * This is plain JavaScript for the same reason.
 *
 * Where the cache lives: this user's cache folder ($XDG_CACHE_HOME or
 * ~/.cache, then weft/node-compile-cache), never inside the install, which
 * may be read-only. If that folder cannot be written (a read-only home),
 * a folder of this user's own under the temp dir, which must be a real
 * directory owned by this user that nobody else can write: a cache holds
 * code we run, so one another local user could plant is never used (the
 * command then runs uncached). NODE_COMPILE_CACHE picks another folder;
 * NODE_DISABLE_COMPILE_CACHE=1 turns it off.
 */
import module from "node:module";
import { lstatSync, mkdirSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";

/** Turns the cache on in `dir`; true if it is on (Deno has no compile cache: false there). */
function cacheIn(dir) {
  const { ENABLED, ALREADY_ENABLED } = module.constants?.compileCacheStatus ?? {};
  const status = module.enableCompileCache?.(dir)?.status;
  return status !== undefined && (status === ENABLED || status === ALREADY_ENABLED);
}

/** This user's folder under the temp dir, if it is a directory only this user can write. */
function privateTempDir() {
  const dir = join(tmpdir(), `weft-${process.getuid?.() ?? "user"}`);
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (e) {
    if (e?.code !== "EEXIST") return undefined;
  }
  const info = lstatSync(dir);
  const mine = process.getuid === undefined || info.uid === process.getuid();
  return info.isDirectory() && mine && (info.mode & 0o022) === 0 ? dir : undefined;
}

export function enableCompileCache() {
  if (process.env.NODE_COMPILE_CACHE || process.env.NODE_DISABLE_COMPILE_CACHE) return; // Node already obeyed them
  let userCache;
  try {
    userCache = process.env.XDG_CACHE_HOME || join(homedir(), ".cache");
  } catch {
    // no home directory: only the temp dir is left
  }
  if (userCache && cacheIn(join(userCache, "weft", "node-compile-cache"))) return;
  const temp = privateTempDir();
  if (temp) cacheIn(join(temp, "node-compile-cache"));
}
