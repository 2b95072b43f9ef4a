/**
 * The Vite plugin that makes the build a PWA: it draws the icons, writes
 * the web app manifest, links both from index.html, compiles the service
 * worker with the list of files to precache (the app shell: everything the
 * first load needs, including the automerge wasm), the list it caches in
 * the background once active (what loads only on demand, like the WASM job
 * runner, so that works offline too) and a build id, and
 * reports bundle sizes (printed, and written to build-report.json).
 */
import { readFile } from "node:fs/promises";
import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import { type Plugin, type Rollup, transformWithEsbuild } from "vite";
import { drawIcon } from "./icons.ts";
import { ICONS, THEME_COLOR, webManifest } from "./manifest.ts";
import { type BuiltFile, formatSizes, measure } from "./sizes.ts";

const SW_SOURCE = fileURLToPath(new URL("../src/sw.ts", import.meta.url));

/** JS chunks reachable from the entry through static imports. */
function initialChunks(bundle: Rollup.OutputBundle): Set<string> {
  const out = new Set<string>();
  const visit = (name: string) => {
    const chunk = bundle[name];
    if (out.has(name) || chunk?.type !== "chunk") return;
    out.add(name);
    for (const i of chunk.imports) visit(i);
  };
  for (const [name, f] of Object.entries(bundle)) if (f.type === "chunk" && f.isEntry) visit(name);
  return out;
}

const bytesOf = (f: Rollup.OutputAsset | Rollup.OutputChunk) =>
  f.type === "chunk"
    ? new TextEncoder().encode(f.code)
    : typeof f.source === "string"
    ? new TextEncoder().encode(f.source)
    : f.source;

export function pwaPlugin(): Plugin {
  return {
    name: "weft-pwa",
    apply: "build",
    enforce: "post",
    transformIndexHtml: {
      order: "post",
      handler: () => [
        { tag: "link", attrs: { rel: "manifest", href: "./manifest.webmanifest" }, injectTo: "head" },
        { tag: "link", attrs: { rel: "icon", type: "image/png", href: "./icon-192.png" }, injectTo: "head" },
        { tag: "link", attrs: { rel: "apple-touch-icon", href: "./icon-192.png" }, injectTo: "head" },
        { tag: "meta", attrs: { name: "theme-color", content: THEME_COLOR }, injectTo: "head" },
      ],
    },
    async generateBundle(_options, bundle) {
      for (const icon of ICONS) {
        this.emitFile({ type: "asset", fileName: icon.src, source: drawIcon(icon.size, icon.maskable) });
      }
      this.emitFile({ type: "asset", fileName: "manifest.webmanifest", source: webManifest() });

      const initial = initialChunks(bundle);
      // Scripts and wasm emitted as assets (a Web Worker, jco's transpiler) are lazy unless the first load names them.
      const initialCode = [...initial].map((name) => (bundle[name] as Rollup.OutputChunk).code).join("\n");
      const lazyAsset = (name: string) =>
        /\.(js|wasm)$/.test(name) && !initialCode.includes(name.slice(name.lastIndexOf("/") + 1));
      const files: BuiltFile[] = Object.values(bundle).map((f) => ({
        fileName: f.fileName,
        bytes: bytesOf(f),
        lazy: f.type === "chunk" ? !initial.has(f.fileName) : lazyAsset(f.fileName),
      }));
      const cached = files.filter((f) => !f.fileName.endsWith(".map"));
      const precache = cached.filter((f) => !f.lazy).map((f) => f.fileName).sort();
      const later = cached.filter((f) => f.lazy).map((f) => f.fileName).sort();
      const hash = createHash("sha256");
      for (const f of [...files].sort((a, b) => (a.fileName < b.fileName ? -1 : 1))) {
        hash.update(f.fileName).update(f.bytes);
      }
      const build = hash.digest("hex").slice(0, 16);

      const source = await readFile(SW_SOURCE, "utf8");
      const compiled = await transformWithEsbuild(source, SW_SOURCE, { loader: "ts", target: "es2022", minify: true });
      const sw = `const PRECACHE=${JSON.stringify(precache)};const LATER=${JSON.stringify(later)};const BUILD=${
        JSON.stringify(build)
      };\n${compiled.code}`;
      this.emitFile({ type: "asset", fileName: "sw.js", source: sw });

      const sizes = measure(files, new Set(precache));
      this.emitFile({
        type: "asset",
        fileName: "build-report.json",
        source: JSON.stringify({ build, precache, later, sizes }, null, 2),
      });
      this.info(`bundle sizes (build ${build}):\n${formatSizes(sizes)}`);
    },
  };
}
