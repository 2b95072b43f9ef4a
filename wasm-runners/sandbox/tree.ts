/**
 * The in-memory trees behind /inputs and /outputs: building the inputs tree
 * from the job's files, and collecting the regular files a job left under
 * /outputs (symlinks are reported rather than kept).
 */
import type { FileDataEntry } from "./shim.ts";

export function inputTree(files: [string, Uint8Array][]): FileDataEntry {
  const root: FileDataEntry = { dir: {} };
  for (const [path, bytes] of files) {
    const parts = path.split("/");
    let dir = root;
    for (const part of parts.slice(0, -1)) dir = dir.dir![part] ??= { dir: {} };
    dir.dir![parts[parts.length - 1]] = { source: bytes };
  }
  return root;
}

export function collectOutputs(root: FileDataEntry): { files: [string, Uint8Array][]; skipped: string[] } {
  const files: [string, Uint8Array][] = [];
  const skipped: string[] = [];
  const walk = (entry: FileDataEntry, prefix: string) => {
    for (const [name, child] of Object.entries(entry.dir ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))) {
      const path = prefix + name;
      if (child.dir) walk(child, `${path}/`);
      else if (child.symlink !== undefined) skipped.push(`output ${path} is a symlink; not kept`);
      else {
        const source = child.source ?? new Uint8Array(0);
        files.push([path, typeof source === "string" ? new TextEncoder().encode(source) : source.slice()]);
      }
    }
  };
  walk(root, "");
  return { files, skipped };
}
