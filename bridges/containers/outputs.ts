/**
 * A job's outputs directory, on the host: how much the job has written
 * (watched while it runs, so a job past its output limit is stopped while
 * it writes, not after), and at the end each file read, described exactly
 * and stored. Symlinks and special files are never followed or kept.
 */
import { watch } from "node:fs";
import { lstat, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { type ContentStore, type OutputFile, RUN_PATH } from "#protocol/runner";
import { storeOutput } from "../../wasm-runners/core/content.ts";
import { MAX_OUTPUT_ENTRIES, MAX_OUTPUT_NAME_BYTES } from "../../wasm-runners/core/output-limits.ts";

interface Entry {
  path: string;
  size: number;
  file: boolean;
}

const encoder = new TextEncoder();

/** Every entry under `root` (not following links), stopping past `maxEntries`. */
async function walk(root: string, maxEntries: number): Promise<Entry[]> {
  const out: Entry[] = [];
  const visit = async (rel: string): Promise<void> => {
    const names = await readdir(join(root, rel)).catch(() => [] as string[]);
    for (const name of names) {
      if (out.length > maxEntries) return;
      const path = rel ? `${rel}/${name}` : name;
      const s = await lstat(join(root, path)).catch(() => undefined);
      if (!s) continue;
      out.push({ path, size: s.isFile() ? s.size : 0, file: s.isFile() });
      if (s.isDirectory()) await visit(path);
    }
  };
  await visit("");
  return out;
}

/** Why what is under `root` is more than the run may keep, if it is. */
function overLimits(entries: Entry[], limit: number, logBytes: number): string | undefined {
  if (entries.length > MAX_OUTPUT_ENTRIES) {
    return `it wrote more than the ${MAX_OUTPUT_ENTRIES} output entries a run may keep`;
  }
  const names = entries.reduce((n, e) => n + encoder.encode(e.path).length, 0);
  if (names > MAX_OUTPUT_NAME_BYTES) {
    return `its output names total ${names} bytes, more than the ${MAX_OUTPUT_NAME_BYTES} a run may keep`;
  }
  const total = entries.reduce((n, e) => n + e.size, names + logBytes);
  if (total > limit) return `its outputs and logs reached ${total} bytes, over its ${limit}-byte output limit`;
  return undefined;
}

/** Watches an outputs directory while the job runs; calls `over` once if it grows past the limit. */
export class OutputWatch {
  readonly #root: string;
  readonly #limit: number;
  readonly #logBytes: () => number;
  readonly #over: (reason: string) => void;
  #watcher?: ReturnType<typeof watch>;
  #scanning = false;
  #again = false;
  #fired = false;

  constructor(root: string, limit: number, logBytes: () => number, over: (reason: string) => void) {
    this.#root = root;
    this.#limit = limit;
    this.#logBytes = logBytes;
    this.#over = over;
    this.#watcher = watch(root, { recursive: true }, () => this.#scan());
    this.#watcher.on("error", () => {});
  }

  #scan(): void {
    if (this.#fired) return;
    if (this.#scanning) {
      this.#again = true;
      return;
    }
    this.#scanning = true;
    void walk(this.#root, MAX_OUTPUT_ENTRIES).then((entries) => {
      const over = overLimits(entries, this.#limit, this.#logBytes());
      if (over && !this.#fired) {
        this.#fired = true;
        this.#over(over);
      }
    }).finally(() => {
      this.#scanning = false;
      if (this.#again) {
        this.#again = false;
        this.#scan();
      }
    });
  }

  close(): void {
    this.#watcher?.close();
    this.#watcher = undefined;
  }
}

/** Store every regular file under `root` and describe it; `note` hears what was not kept and why. */
export async function collectOutputs(
  root: string,
  store: ContentStore,
  limit: number,
  logBytes: number,
  note: (text: string) => void,
): Promise<{ outputs: OutputFile[] } | { over: string }> {
  const entries = await walk(root, MAX_OUTPUT_ENTRIES);
  const over = overLimits(entries, limit, logBytes);
  if (over) return { over };
  const outputs: OutputFile[] = [];
  for (const e of entries) {
    const s = await lstat(join(root, e.path));
    if (s.isDirectory()) continue;
    if (!s.isFile()) {
      note(`output ${JSON.stringify(e.path)} is not a regular file (a link or a device); not kept`);
    } else if (!RUN_PATH.test(e.path)) {
      note(`output ${JSON.stringify(e.path)} has a name an output may not have (see RUN_PATH); not kept`);
    } else if (s.size > limit) {
      return { over: `output ${e.path} grew to ${s.size} bytes after the job ended` };
    } else {
      outputs.push(await storeOutput(store, e.path, new Uint8Array(await readFile(join(root, e.path)))));
    }
  }
  return { outputs };
}
