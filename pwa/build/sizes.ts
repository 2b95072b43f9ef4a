/**
 * Bundle sizes: what the first load costs (the entry and the chunks it
 * imports statically, styles, the automerge wasm), what loads only on
 * demand, and everything the service worker precaches — raw and gzipped.
 */
import { gzipSync } from "node:zlib";

export interface BuiltFile {
  fileName: string;
  bytes: Uint8Array;
  /** Only loaded on demand: a JavaScript chunk reached through dynamic import, or a file only such chunks use. */
  lazy: boolean;
}

export interface Sizes {
  /** JavaScript loaded at start (entry + static imports). */
  initialJs: number;
  initialJsGzip: number;
  /** JavaScript loaded only on demand (e.g. libp2p, which browser nodes never load; the WASM job runner). */
  lazyJs: number;
  /** WebAssembly loaded only on demand (jco's transpiler, when the tab offers capacity). */
  lazyWasm: number;
  css: number;
  cssGzip: number;
  wasm: number;
  wasmGzip: number;
  /** Everything the service worker precaches. */
  precache: number;
  precacheGzip: number;
}

const gz = (b: Uint8Array) => gzipSync(b, { level: 9 }).length;

export function measure(files: BuiltFile[], precache: ReadonlySet<string>): Sizes {
  const s: Sizes = {
    initialJs: 0,
    initialJsGzip: 0,
    lazyJs: 0,
    lazyWasm: 0,
    css: 0,
    cssGzip: 0,
    wasm: 0,
    wasmGzip: 0,
    precache: 0,
    precacheGzip: 0,
  };
  for (const f of files) {
    const n = f.bytes.length;
    if (f.fileName.endsWith(".js") && f.lazy) s.lazyJs += n;
    else if (f.fileName.endsWith(".wasm") && f.lazy) s.lazyWasm += n;
    else if (f.fileName.endsWith(".js") && f.fileName !== "sw.js") {
      s.initialJs += n;
      s.initialJsGzip += gz(f.bytes);
    } else if (f.fileName.endsWith(".css")) {
      s.css += n;
      s.cssGzip += gz(f.bytes);
    } else if (f.fileName.endsWith(".wasm")) {
      s.wasm += n;
      s.wasmGzip += gz(f.bytes);
    }
    if (precache.has(f.fileName)) {
      s.precache += n;
      s.precacheGzip += gz(f.bytes);
    }
  }
  return s;
}

export function formatSizes(s: Sizes): string {
  const kb = (n: number) => `${(n / 1024).toFixed(1)} kB`;
  return [
    `initial JS  ${kb(s.initialJs).padStart(10)}  gzip ${kb(s.initialJsGzip).padStart(10)}`,
    `CSS         ${kb(s.css).padStart(10)}  gzip ${kb(s.cssGzip).padStart(10)}`,
    `wasm        ${kb(s.wasm).padStart(10)}  gzip ${kb(s.wasmGzip).padStart(10)}`,
    `lazy JS     ${kb(s.lazyJs).padStart(10)}  (loaded only on demand)`,
    `lazy wasm   ${kb(s.lazyWasm).padStart(10)}  (loaded only when the tab offers capacity)`,
    `precache    ${kb(s.precache).padStart(10)}  gzip ${kb(s.precacheGzip).padStart(10)}`,
  ].join("\n");
}
