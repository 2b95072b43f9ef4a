/** Two commits' line diffs, file by file, read from this browser's copy once both commits are here. */
import { useEffect, useState } from "preact/hooks";
import { messageOf } from "#protocol";
import type { FileDiff } from "../../model/diff-lines.ts";
import type { RepoStatus } from "./use-repo.ts";

export function useDiff(status: RepoStatus, from: string | undefined, to: string | undefined) {
  const [out, setOut] = useState<{ diffs?: FileDiff[]; error?: string }>({});
  useEffect(() => {
    const { read, repo } = status;
    if (!from || !to || !read || !repo) return setOut({});
    let gone = false;
    (async () => {
      const files = await read.changedFiles(
        repo,
        await read.resolveCommit(repo, from),
        await read.resolveCommit(repo, to),
      );
      return await Promise.all(files.map((f) => read.diffFile(repo, f)));
    })().then(
      (diffs) => !gone && setOut({ diffs }),
      (e) =>
        !gone &&
        setOut({
          error: status.state === "fetching"
            ? "fetching the commits from a peer…"
            : `these commits are not in this browser yet (${messageOf(e)})${status.error ? `: ${status.error}` : ""}`,
        }),
    );
    return () => {
      gone = true;
    };
  }, [status.repo?.gitdir, status.version, status.state, from, to]);
  return out;
}
