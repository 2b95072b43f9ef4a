/**
 * Everything that reads git in the browser, as the one module views load
 * on demand (isomorphic-git is large, and most visits never read code):
 * the IndexedDB mirror, the readers over it, and merging with a merge
 * commit made in it.
 */
export * from "./git-read.ts";
export { RepoMirror } from "../node/repo-mirror.ts";
export { mergeWithCommit } from "../node/merge-commit.ts";
