/**
 * Transpiling a component in a `deno run` subprocess (transpile-child.ts),
 * for a Deno peer, as the Node peer does (see core/transpile-process.ts for
 * why): a hostile component can exhaust or stall only that process.
 */
import { transpileInChild, type TranspileProcessOptions } from "../core/transpile-process.ts";
import type { TranspileFn } from "../core/transpile.ts";
import { denoApi, spawnDeno } from "./subprocess.ts";

const CHILD = new URL("./transpile-child.ts", import.meta.url);
/**
 * jco is an npm package (node_modules, as deno.json says) that reads its own WebAssembly from there (node_modules
 * may be a link: the real path is granted), and its WASI shim lists the environment at load, which spawnDeno has
 * emptied but for Deno's cache location.
 */
function transpileFlags(): string[] {
  const modules = denoApi()!.realPathSync(new URL("../../node_modules/", import.meta.url));
  return ["--node-modules-dir=manual", "--allow-env", `--allow-read=${modules}`];
}

export function denoSubprocessTranspile(options: TranspileProcessOptions = {}): TranspileFn {
  return transpileInChild((heapMb) => spawnDeno(CHILD, heapMb, transpileFlags()), options);
}
