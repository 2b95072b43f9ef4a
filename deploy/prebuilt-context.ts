/**
 * `node deploy/prebuilt-context.ts <dir>`: lay out a build context for
 * deploy/Dockerfile with DEPS=prebuilt, for machines where the build cannot
 * reach a registry. It holds the sources the image copies, this checkout's
 * installed production dependencies (the packages package-lock.json does not
 * mark dev, as `npm prune --omit=dev` would keep) and the built dashboard
 * (built first if stale). Files are hard-linked where the filesystem allows,
 * so a context costs seconds, not a copy of node_modules. The dependencies
 * were installed for this machine: build for the same OS and CPU.
 */
import { execFileSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  symlinkSync,
  utimesSync,
} from "node:fs";
import { join, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const REPO = fileURLToPath(new URL("..", import.meta.url));
/** What the Dockerfile's stages copy from the context (besides .prebuilt/). */
const SOURCES = [
  "package.json",
  "package-lock.json",
  "protocol",
  "peer",
  "wasm-runners",
  "bridges",
  "pwa",
  "deploy/Dockerfile",
];
/** Never part of a context: installed or built trees (as .dockerignore says). */
const SKIP = new Set(["node_modules", "dist"]);

/**
 * Hard-link (or copy, across filesystems) `from` to `to`, recursively; symlinks stay symlinks. Times are kept
 * (directories' too): a builder's layer cache keys a COPY on them, so an unchanged tree reuses its layer.
 */
function linkTree(from: string, to: string, skip: ReadonlySet<string> = new Set()): void {
  const st = lstatSync(from);
  if (st.isSymbolicLink()) {
    symlinkSync(readlinkSync(from), to);
    return lutimesSync(to, st.atime, st.mtime);
  }
  if (st.isDirectory()) {
    mkdirSync(to, { recursive: true, mode: st.mode & 0o7777 });
    for (const name of readdirSync(from)) if (!skip.has(name)) linkTree(join(from, name), join(to, name), skip);
    return utimesSync(to, st.atime, st.mtime);
  }
  try {
    linkSync(from, to);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EXDEV" && (e as NodeJS.ErrnoException).code !== "EPERM") throw e;
    copyFileSync(from, to);
    utimesSync(to, st.atime, st.mtime);
  }
}

/** The top-level node_modules entries a production install holds, that are installed here. */
export function productionPackages(repo = REPO): string[] {
  const lock = JSON.parse(readFileSync(join(repo, "package-lock.json"), "utf8")) as {
    packages: Record<string, { dev?: boolean }>;
  };
  return Object.entries(lock.packages)
    .filter(([path, entry]) => /^node_modules\/(@[^/]+\/)?[^/]+$/.test(path) && !entry.dev)
    .map(([path]) => path)
    .filter((path) => existsSync(join(repo, path)));
}

/** Write the context into `dir` (emptied first). */
export function writePrebuiltContext(dir: string, repo = REPO): void {
  execFileSync(process.execPath, [join(repo, "pwa/build/build.ts"), "--if-stale"], { cwd: repo, stdio: "inherit" });
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, "deploy"), { recursive: true });
  for (const source of SOURCES) linkTree(join(repo, source), join(dir, source), SKIP);
  // node_modules may be a symlink to a shared install: link from where the files really are.
  const modules = realpathSync(join(repo, "node_modules"));
  const into = join(dir, ".prebuilt/node_modules");
  const packages = productionPackages(repo).map((path) => path.slice("node_modules/".length));
  for (const name of packages) {
    mkdirSync(join(into, name, ".."), { recursive: true });
    linkTree(join(modules, name), join(into, name));
  }
  // The folders made on the way (node_modules, each @scope) keep their times too.
  for (const made of new Set(["", ...packages.filter((n) => n.startsWith("@")).map((n) => n.split("/")[0])])) {
    const st = lstatSync(join(modules, made));
    utimesSync(join(into, made), st.atime, st.mtime);
  }
  linkTree(join(repo, "pwa/dist"), join(dir, ".prebuilt/pwa-dist"));
}

if (import.meta.main) {
  const dir = process.argv[2];
  if (!dir) {
    process.stderr.write(
      "usage: node deploy/prebuilt-context.ts <dir>   (then: docker build --build-arg DEPS=prebuilt -f <dir>/deploy/Dockerfile <dir>)\n",
    );
    process.exit(2);
  }
  writePrebuiltContext(resolve(dir));
  process.stdout.write(
    `build context in ${resolve(dir)}: docker build --build-arg DEPS=prebuilt -f ${
      join(resolve(dir), "deploy/Dockerfile")
    } ${resolve(dir)}\n`,
  );
}
