/**
 * The Vite configuration of the dashboard. protocol/ imports the full
 * automerge entries, which initialize their wasm through paths a browser
 * bundle cannot take; here they resolve to the `/slim` entries instead,
 * and src/boot/wasm.ts loads the wasm from its own URL before the node
 * starts. JSX is Preact's.
 */
import { fileURLToPath } from "node:url";
import type { InlineConfig } from "vite";
import { pwaPlugin } from "./pwa-plugin.ts";

export const PWA_ROOT = fileURLToPath(new URL("..", import.meta.url));
export const PWA_DIST = fileURLToPath(new URL("../dist", import.meta.url));

export function pwaConfig(): InlineConfig {
  return {
    root: PWA_ROOT,
    base: "./",
    configFile: false,
    publicDir: false,
    resolve: {
      alias: [
        { find: /^@automerge\/automerge-repo$/, replacement: "@automerge/automerge-repo/slim" },
        { find: /^@automerge\/automerge$/, replacement: "@automerge/automerge/slim" },
      ],
    },
    esbuild: { jsx: "automatic", jsxImportSource: "preact" },
    plugins: [pwaPlugin()],
    build: {
      outDir: PWA_DIST,
      emptyOutDir: true,
      target: "es2023",
      // The automerge wasm stays a file of its own (streamed and cached), never inlined.
      assetsInlineLimit: 0,
      chunkSizeWarningLimit: 1024,
    },
  };
}
