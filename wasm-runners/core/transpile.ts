/**
 * Turns a component's bytes into what a sandbox can instantiate — jco's
 * transpiled glue in instantiation mode (no imports of its own: the sandbox
 * hands it every WASI interface) plus the core modules it asks for — and
 * caches the result by the component's CID: in memory, and in a persistent
 * cache when the runtime has one (the peer keeps it on disk).
 *
 * The glue is kept as the body of a function returning `instantiate`, not as
 * an ES module: a sandbox evaluates it with `new Function`, several times
 * faster than importing a large module from a data: URL, the only module
 * source every runtime takes.
 */
import { generate } from "@bytecodealliance/jco/component";
import { messageOf, WeftError } from "#protocol";
import { unsupportedImports } from "./interfaces.ts";

/** Bump when jco's output or the way glue is rewritten changes, so cached entries are redone. */
export const GLUE_FORMAT = 1;

export interface Transpiled {
  format: number;
  /** Body of a function returning jco's `instantiate(getCoreModule, imports, instantiateCore)`. */
  glue: string;
  /** Core modules by the names the glue asks for. */
  modules: [string, Uint8Array][];
  /** Interfaces the component imports, as the glue names them. */
  imports: string[];
  /** Names the component exports. */
  exports: string[];
}

/** How a component's bytes become a `Transpiled`: `transpileComponent` here, or the same in another process. */
export type TranspileFn = (cid: string, bytes: Uint8Array) => Promise<Transpiled>;

/** Somewhere to keep transpiled components between runs (and restarts). */
export interface TranspileCache {
  get(cid: string): Promise<Transpiled | undefined>;
  put(cid: string, transpiled: Transpiled): Promise<void>;
}

function transpileError(cid: string, detail: string): WeftError {
  return new WeftError(
    "RunnerError",
    "wasm/not-a-job",
    `program ${cid} is not a WebAssembly job Weft can run: ${detail}. ` +
      "Build it as a WASI 0.2 command component (wasm-runners/wit/job.wit is the world it may use)",
  );
}

/** Check that a transpiled component is a job the sandbox can run. */
function checkJob(cid: string, t: Transpiled): void {
  const missing = unsupportedImports(t.imports);
  if (missing.length > 0) {
    throw transpileError(cid, `it imports ${missing.join(", ")}, which Weft jobs are not given`);
  }
  if (!t.exports.some((e) => e.startsWith("wasi:cli/run@0.2"))) {
    throw transpileError(cid, "it does not export wasi:cli/run@0.2.x");
  }
}

/** jco's ES module as a function body; refuses output it does not recognise rather than guess. */
function functionBody(cid: string, module: string): string {
  const exports = module.match(/^export .*$/gm) ?? [];
  const expected = ["export function instantiate(", "export const _util = "];
  if (exports.length !== 2 || !expected.every((e, i) => exports[i].startsWith(e)) || /^import[\s{*]/m.test(module)) {
    throw transpileError(cid, "jco produced glue of a shape this runner does not know (was jco upgraded?)");
  }
  const body = module.replace(/^export /gm, "").replaceAll("import.meta.url", '"about:blank"');
  return `${body}\nreturn instantiate;\n//# sourceURL=weft-job-glue.js\n`;
}

export async function transpileComponent(cid: string, bytes: Uint8Array): Promise<Transpiled> {
  let out;
  try {
    out = await generate(bytes, {
      name: "component",
      instantiation: { tag: "async" },
      noTypescript: true,
      noNodejsCompat: true,
      base64Cutoff: 0,
    });
  } catch (e) {
    throw transpileError(cid, messageOf(e));
  }
  const glue = out.files.find(([name]) => name.endsWith(".js"));
  if (!glue) throw transpileError(cid, "jco produced no JavaScript");
  const t: Transpiled = {
    format: GLUE_FORMAT,
    glue: functionBody(cid, new TextDecoder().decode(glue[1])),
    modules: out.files.filter(([name]) => name.endsWith(".wasm")),
    imports: out.imports,
    exports: out.exports.map(([name]) => name),
  };
  checkJob(cid, t);
  return t;
}

/** Transpiles each component once: from memory, else the persistent cache, else jco. */
export class Transpiler {
  readonly #memory = new Map<string, Promise<Transpiled>>();
  readonly #persistent?: TranspileCache;
  readonly #capacity: number;
  readonly #transpile: TranspileFn;

  constructor(persistent?: TranspileCache, capacity = 32, transpile: TranspileFn = transpileComponent) {
    this.#persistent = persistent;
    this.#capacity = capacity;
    this.#transpile = transpile;
  }

  /** The transpiled component `cid`; `fetch` gets its bytes (checked) if no cache has it. */
  get(cid: string, fetch: () => Promise<Uint8Array>): Promise<Transpiled> {
    const hit = this.#memory.get(cid);
    if (hit) {
      this.#memory.delete(cid);
      this.#memory.set(cid, hit);
      return hit;
    }
    const pending = this.#load(cid, fetch);
    this.#memory.set(cid, pending);
    pending.catch(() => this.#memory.delete(cid));
    while (this.#memory.size > this.#capacity) this.#memory.delete(this.#memory.keys().next().value!);
    return pending;
  }

  /** Resolves once no transpile (or write to the persistent cache) is in flight: a runner closing waits for it. */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.#memory.values()]);
  }

  async #load(cid: string, fetch: () => Promise<Uint8Array>): Promise<Transpiled> {
    const stored = await this.#persistent?.get(cid);
    if (stored?.format === GLUE_FORMAT) {
      checkJob(cid, stored);
      return stored;
    }
    const t = await this.#transpile(cid, await fetch());
    checkJob(cid, t);
    await this.#persistent?.put(cid, t);
    return t;
  }
}
