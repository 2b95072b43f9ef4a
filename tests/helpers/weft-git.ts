/**
 * Plain git as a user runs it against a Weft peer: git-remote-weft on PATH
 * (a bin directory holding a link to it), the peer's home as WEFT_HOME,
 * no user or system config, and a fixed author.
 */
import { execFile } from "node:child_process";
import { mkdir, symlink } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";
import { promisify } from "node:util";

const run = promisify(execFile);
const HELPER = new URL("../../peer/cli/git-remote-weft.js", import.meta.url).pathname;

/** A directory under `dir` holding git-remote-weft, for PATH. */
export async function helperBin(dir: string): Promise<string> {
  const bin = join(dir, "bin");
  await mkdir(bin, { recursive: true });
  await symlink(HELPER, join(bin, "git-remote-weft"));
  return bin;
}

/** git in `cwd` against the peer at `home`; resolves with its trimmed stdout. */
export function weftGit(home: string, bin: string, cwd: string) {
  return async (...args: string[]) =>
    (await run("git", ["-C", cwd, ...args], {
      env: {
        ...process.env,
        PATH: `${bin}:${process.env.PATH}`,
        WEFT_HOME: home,
        GIT_CONFIG_NOSYSTEM: "1",
        GIT_CONFIG_GLOBAL: "/dev/null",
        GIT_AUTHOR_NAME: "Ada",
        GIT_AUTHOR_EMAIL: "ada@weft.invalid",
        GIT_COMMITTER_NAME: "Ada",
        GIT_COMMITTER_EMAIL: "ada@weft.invalid",
      },
    })).stdout.trim();
}
