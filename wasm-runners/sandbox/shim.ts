/**
 * The parts of @bytecodealliance/preview2-shim the sandbox is built from —
 * always its browser build, on every runtime. The package's export map
 * sends Node and Deno to its host build (real files, real sockets, a helper
 * thread for blocking calls); a job must get none of that, so these come by
 * path: streams and pollables, the in-memory file system (whose path
 * resolution keeps `..` and symlinks inside their directory), random,
 * the CLI streams, and the resource classes of sockets and HTTP.
 */
// @ts-types="../../node_modules/@bytecodealliance/preview2-shim/dist/browser/io.d.ts"
export {
  error,
  inputStreamCreate,
  outputStreamCreate,
  poll,
  pollableCreate,
  streams,
} from "../../node_modules/@bytecodealliance/preview2-shim/dist/browser/io.js";
export type { OutputStreamHandler } from "../../node_modules/@bytecodealliance/preview2-shim/dist/browser/io.d.ts";
// @ts-types="../../node_modules/@bytecodealliance/preview2-shim/dist/browser/in-memory-filesystem.d.ts"
export { InMemoryFilesystemAdapter } from "../../node_modules/@bytecodealliance/preview2-shim/dist/browser/in-memory-filesystem.js";
export type { FileDataEntry } from "../../node_modules/@bytecodealliance/preview2-shim/dist/browser/in-memory-filesystem.d.ts";
export type { BrowserFilesystemDescriptor } from "../../node_modules/@bytecodealliance/preview2-shim/dist/browser/filesystem.d.ts";
// @ts-types="../../node_modules/@bytecodealliance/preview2-shim/dist/browser/cli.d.ts"
export { createCli } from "../../node_modules/@bytecodealliance/preview2-shim/dist/browser/cli.js";
// @ts-types="../../node_modules/@bytecodealliance/preview2-shim/dist/browser/random.d.ts"
export {
  insecure,
  insecureSeed,
  random,
} from "../../node_modules/@bytecodealliance/preview2-shim/dist/browser/random.js";
// @ts-types="../../node_modules/@bytecodealliance/preview2-shim/dist/browser/sockets.d.ts"
export {
  ipNameLookup,
  network,
  tcp,
  udp,
} from "../../node_modules/@bytecodealliance/preview2-shim/dist/browser/sockets.js";
// @ts-types="../../node_modules/@bytecodealliance/preview2-shim/dist/browser/http.d.ts"
export { types as httpTypes } from "../../node_modules/@bytecodealliance/preview2-shim/dist/browser/http.js";
export type { types as FilesystemTypes } from "../../node_modules/@bytecodealliance/preview2-shim/types/filesystem.js";
