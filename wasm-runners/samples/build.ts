/**
 * Builds the sample job components from their WAT sources in samples/src/,
 * with jco's bundled wasm-tools and the WASI preview1 command adapter that
 * ships inside @bytecodealliance/jco — nothing is downloaded. Each sample is
 * the shared prelude plus its own forms, componentized with the adapter (and,
 * for a sample with a `.wit` beside it, that world embedded first).
 *
 * Builds land in a git-ignored cache directory, named by a hash of everything
 * that goes into them, so building again is a cheap read. A tool for tests
 * and benchmarks, not part of the runner; it uses node:* (Deno runs it too).
 *
 * Other tests get a sample's component bytes with
 * `(await buildSample("sleep")).component`, or all of them with
 * `await buildSamples()`; `sampleSpec` makes a run spec for one.
 */
import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { componentEmbed, componentNew, parse } from "@bytecodealliance/jco";
import type { ContentStore, RunSpec } from "#protocol/runner";

export const SAMPLES = [
  "hasher",
  "upper",
  "line-count",
  "env-probe",
  "sleep",
  "spin",
  "memory-bomb",
  "flood",
  "escape",
  "net-probe",
  "table-bomb",
  "many-files",
] as const;
export type SampleName = typeof SAMPLES[number];

export interface Sample {
  /** The component's bytes: what a run spec's `program` names by CID. */
  component: Uint8Array;
  /** The core module inside it, before componentizing (for baselines). */
  core: Uint8Array;
}

const root = fileURLToPath(new URL("../../", import.meta.url));
const src = fileURLToPath(new URL("./src/", import.meta.url));
const jco = join(root, "node_modules/@bytecodealliance/jco");
const WASI = join(jco, "lib/wit/builtin/0.2.12");
const WASI_PACKAGES = [
  "wasi-io",
  "wasi-clocks",
  "wasi-random",
  "wasi-filesystem",
  "wasi-sockets",
  "wasi-cli",
  "wasi-http",
];
export const DEFAULT_CACHE = join(root, ".cache/wasm-samples");

/** The WASI 0.2.12 packages bundled with jco, as nested packages for a single WIT source. */
export async function wasiWit(): Promise<string> {
  const parts = await Promise.all(WASI_PACKAGES.map((p) => readFile(join(WASI, p, "package.wit"), "utf8")));
  return parts.map((text) => text.replace(/^package ([^;]+);/, "package $1 {") + "\n}\n").join("\n");
}

/** Split WAT text into its top-level forms, dropping comments between them. */
export function topLevelForms(wat: string): string[] {
  const forms: string[] = [];
  let depth = 0;
  let start = -1;
  for (let i = 0; i < wat.length; i++) {
    const c = wat[i];
    if (c === ";" && wat[i + 1] === ";") {
      while (i < wat.length && wat[i] !== "\n") i++;
    } else if (c === "(" && wat[i + 1] === ";") {
      const end = wat.indexOf(";)", i + 2);
      if (end < 0) throw new Error("unterminated block comment");
      i = end + 1;
    } else if (c === '"') {
      for (i++; i < wat.length && wat[i] !== '"'; i++) if (wat[i] === "\\") i++;
    } else if (c === "(") {
      if (depth++ === 0) start = i;
    } else if (c === ")") {
      if (--depth === 0) forms.push(wat.slice(start, i + 1));
      if (depth < 0) throw new Error("unbalanced parentheses");
    }
  }
  if (depth !== 0) throw new Error("unbalanced parentheses");
  return forms;
}

/** The prelude and a sample's forms as one module, imports first (WAT requires it). */
export function assemble(prelude: string, sample: string): string {
  const forms = [...topLevelForms(prelude), ...topLevelForms(sample)];
  const imports = forms.filter((f) => f.startsWith("(import"));
  const rest = forms.filter((f) => !f.startsWith("(import"));
  return `(module\n${[...imports, ...rest].join("\n")}\n)\n`;
}

async function optional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
}

async function writeAtomically(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await writeFile(tmp, bytes);
  await rename(tmp, path);
}

async function readIfPresent(path: string): Promise<Uint8Array | undefined> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
}

/** Build one sample (or read it from the cache). */
export async function buildSample(name: SampleName, cacheDir = DEFAULT_CACHE): Promise<Sample> {
  const prelude = await readFile(join(src, "prelude.wat"), "utf8");
  const body = await readFile(join(src, `${name}.wat`), "utf8");
  const world = await optional(join(src, `${name}.wit`));
  const wit = world === undefined ? undefined : `${world}\n${await wasiWit()}`;
  const adapter = await readFile(join(jco, "lib/wasi_snapshot_preview1.command.wasm"));
  const version = JSON.parse(await readFile(join(jco, "package.json"), "utf8")).version as string;
  const hash = createHash("sha256").update(version).update("\0").update(prelude).update("\0").update(body)
    .update("\0").update(wit ?? "").update("\0").update(adapter).digest("hex").slice(0, 16);
  const componentPath = join(cacheDir, `${name}-${hash}.component.wasm`);
  const corePath = join(cacheDir, `${name}-${hash}.core.wasm`);
  const [cachedComponent, cachedCore] = await Promise.all([readIfPresent(componentPath), readIfPresent(corePath)]);
  if (cachedComponent && cachedCore) return { component: cachedComponent, core: cachedCore };

  const core = await parse(assemble(prelude, body));
  const embedded = wit === undefined ? core : await componentEmbed({ binary: core, witSource: wit, world: name });
  const component = await componentNew(embedded, [["wasi_snapshot_preview1", new Uint8Array(adapter)]]);
  await mkdir(cacheDir, { recursive: true });
  await writeAtomically(corePath, core);
  await writeAtomically(componentPath, component);
  await removeStale(cacheDir, name, hash);
  return { component, core };
}

/** Drop older builds of a sample so the cache holds one per sample. */
async function removeStale(cacheDir: string, name: SampleName, hash: string): Promise<void> {
  for (const file of await readdir(cacheDir)) {
    const m = /^(.+)-([0-9a-f]{16})\.(component|core)\.wasm$/.exec(file);
    if (m && m[1] === name && m[2] !== hash) await rm(join(cacheDir, file), { force: true });
  }
}

/** Build every sample (or read them from the cache). */
export async function buildSamples(cacheDir = DEFAULT_CACHE): Promise<Record<SampleName, Sample>> {
  const out = {} as Record<SampleName, Sample>;
  for (const name of SAMPLES) out[name] = await buildSample(name, cacheDir);
  return out;
}

/**
 * A run spec for a sample: builds it (or reads the cache), puts its
 * component into `store`, and names it by CID — e.g.
 * `await sampleSpec(store, "sleep", { args: ["1500"], limits: { wallMs: 10_000 } })`.
 * Inputs must already be in the store.
 */
export async function sampleSpec(
  store: Pick<ContentStore, "put">,
  name: SampleName,
  options: {
    args?: string[];
    inputs?: RunSpec["inputs"];
    env?: RunSpec["env"];
    limits?: Partial<RunSpec["limits"]>;
  } = {},
): Promise<RunSpec> {
  const { component } = await buildSample(name);
  return {
    runner: "wasm",
    program: await store.put(component),
    args: options.args ?? [],
    inputs: options.inputs ?? [],
    env: options.env ?? [],
    limits: { wallMs: 10_000, memoryMb: 32, outputBytes: 1 << 20, ...options.limits },
  };
}
