/**
 * Loading automerge's wasm in the browser. The bundle uses automerge's
 * `/slim` entries (see pwa/build/config.ts), which leave the wasm to the
 * app: it is a file of its own, streamed, compiled once and precached by
 * the service worker. Must finish before the node touches a document.
 */
import wasmUrl from "@automerge/automerge/automerge.wasm?url";
import { initializeWasm } from "@automerge/automerge/slim";

export function loadAutomerge(): Promise<void> {
  return initializeWasm(wasmUrl);
}
