/**
 * Everything that reads git in the browser, as the one module views load
 * on demand (isomorphic-git is large, and most visits never read code):
 * the IndexedDB mirror and the readers over it.
 */
export * from "./git-read.ts";
export { RepoMirror } from "../node/repo-mirror.ts";
