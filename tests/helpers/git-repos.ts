/**
 * Real git repositories for tests and benchmarks, generated fast with
 * `git fast-import`: a bare repository with `commits` commits on
 * refs/heads/main, each adding one file of `bytesPerCommit` random
 * (incompressible) bytes, so the size of what moves is known.
 */
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";

const ENV = { ...process.env, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null" };

export function git(repo: string, ...args: string[]): string {
  return execFileSync("git", ["-C", repo, ...args], {
    env: ENV,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
    stdio: ["ignore", "pipe", "pipe"],
  }).trim();
}

export function initBare(path: string): string {
  execFileSync("git", ["init", "--quiet", "--bare", "--initial-branch=main", path], { env: ENV });
  return path;
}

/**
 * Append `commits` commits to refs/heads/main of the bare repository at
 * `repo` (created if absent); returns the new head.
 */
export async function addCommits(repo: string, commits: number, bytesPerCommit = 1024): Promise<string> {
  let parent: string | undefined;
  try {
    parent = git(repo, "rev-parse", "--verify", "--quiet", "refs/heads/main");
  } catch {
    parent = undefined;
  }
  const child = spawn("git", ["-C", repo, "fast-import", "--quiet", "--done"], {
    env: ENV,
    stdio: ["pipe", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (c) => (stderr += c));
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  const write = (chunk: string | Uint8Array) =>
    child.stdin.write(chunk) ? Promise.resolve() : new Promise<void>((r) => child.stdin.once("drain", r));
  const base = 1_700_000_000 + Number(git(repo, "rev-list", "--count", "--all") || "0");
  for (let i = 0; i < commits; i++) {
    const blob = randomBytes(bytesPerCommit);
    const message = `commit ${i}\n`;
    await write(`blob\nmark :${2 * i + 1}\ndata ${blob.length}\n`);
    await write(blob);
    await write(
      `\ncommit refs/heads/main\nmark :${2 * i + 2}\ncommitter Weft Test <test@weft.invalid> ${base + i} +0000\n` +
        `data ${message.length}\n${message}` +
        (i === 0 ? (parent ? `from ${parent}\n` : "") : `from :${2 * i}\n`) +
        `M 100644 :${2 * i + 1} files/${i % 97}/${base + i}.bin\n\n`,
    );
  }
  await write("done\n");
  child.stdin.end();
  if (await exited !== 0) throw new Error(`git fast-import failed: ${stderr}`);
  return git(repo, "rev-parse", "refs/heads/main");
}
