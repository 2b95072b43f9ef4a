/**
 * The entry point: take this browser's node lock, load automerge's wasm,
 * open the browser node (key, IndexedDB, peers), render the app, then
 * register the service worker so the next visit works offline. The node is
 * also reachable as `weft` in the console (and from end-to-end tests), and
 * the marks `weft-node-open` and `weft-interactive` time the start-up.
 */
import "./styles.css";
import { render } from "preact";
import { registerServiceWorker } from "./boot/service-worker.ts";
import { holdTabLock } from "./boot/tab-lock.ts";
import { loadAutomerge } from "./boot/wasm.ts";
import { BrowserNode } from "./node/browser-node.ts";
import { App } from "./ui/app.tsx";

const root = document.getElementById("app") as HTMLElement;

function say(text: string, error = false): void {
  root.innerHTML = "";
  const p = document.createElement("p");
  p.className = error ? "boot error" : "boot";
  p.setAttribute("role", error ? "alert" : "status");
  p.textContent = text;
  root.append(p);
}

async function start(): Promise<void> {
  await holdTabLock(() => say("Weft is open in another tab of this browser; it starts here once that tab is closed."));
  await loadAutomerge();
  performance.mark("weft-node-opening");
  const bn = await BrowserNode.open(location);
  performance.measure("weft-node-open", "weft-node-opening");
  addEventListener("online", () => bn.reconnect());
  // A hidden tab may be discarded without notice (phones do): keep what it holds on disk.
  addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") void bn.flush();
  });
  Object.assign(globalThis, { weft: bn });
  root.textContent = "";
  render(<App bn={bn} />, root);
  performance.mark("weft-interactive");
  document.documentElement.dataset.ready = "true";
  registerServiceWorker();
}

start().catch((e: Error) => say(`Weft could not start: ${e.message}`, true));
