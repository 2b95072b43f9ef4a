/**
 * Which objects a bare repository lacks, asked of system git in one
 * `git cat-file --batch-check` (ids checked well-formed by the caller):
 * the server uses it to refuse wants it cannot serve before upload-pack
 * runs, the asker to skip a transfer for what it already has.
 */
import { GitTransferError } from "#protocol/sync";
import { startGit } from "./git-child.ts";

export async function missingObjects(
  repo: string,
  ids: readonly string[],
  env?: Record<string, string>,
): Promise<string[]> {
  if (ids.length === 0) return [];
  const git = await startGit(["-C", repo, "cat-file", "--batch-check=%(objectname)"], { env });
  let out = "";
  git.stdout.setEncoding("utf8");
  git.stdout.on("data", (text: string) => {
    // One line per id, each at most an id and " missing": anything longer is not git's answer.
    if (out.length < ids.length * 80) out += text;
  });
  git.stdin.end(ids.map((id) => `${id}\n`).join(""));
  const code = await git.exited;
  if (code !== 0) throw new GitTransferError("git/failed", `git cat-file failed in ${repo}: ${git.stderr()}`);
  return out.split("\n").filter((line) => line.endsWith(" missing")).map((line) => line.slice(0, -" missing".length));
}
