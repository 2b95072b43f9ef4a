/**
 * The entry point: take this browser's node lock, show the saved view of
 * the space being opened if there is one that checks out (ui/saved-view.tsx),
 * load automerge's wasm, open the browser node (key, IndexedDB, peers:
 * every operation read and verified, signatures this device verified on an
 * earlier visit answered from its signed record, node/verified-store.ts,
 * with the count shown as progress; the others checked in workers,
 * verify/), render the app, then register the
 * service worker so the next visit works offline. The node is also
 * reachable as `weft` in the console (and from end-to-end tests). The marks
 * `weft-first-render` (with `data-first-render`: "saved" or "app"),
 * `weft-node-open` and `weft-interactive` time the start-up.
 */
import "./styles.css";
import { render } from "preact";
import { registerServiceWorker } from "./boot/service-worker.ts";
import { holdTabLock } from "./boot/tab-lock.ts";
import { loadAutomerge } from "./boot/wasm.ts";
import { defaultVerifier, type VerifyCounts } from "#protocol/identity";
import { parseRoute } from "./model/route.ts";
import { BrowserNode } from "./node/browser-node.ts";
import { openWeftDb, type WeftDb } from "./node/db.ts";
import { loadSnapshot, type Snapshot } from "./node/snapshot.ts";
import { openVerifier } from "./node/verified-store.ts";
import { WorkerVerifier } from "./verify/worker-verifier.ts";
import { App } from "./ui/app.tsx";
import type { Notice } from "./ui/context.ts";
import { keepSnapshot, notConfirmed } from "./ui/keep-snapshot.ts";
import { SavedView } from "./ui/saved-view.tsx";

const root = document.getElementById("app") as HTMLElement;

function say(text: string, error = false): void {
  root.innerHTML = "";
  const p = document.createElement("p");
  p.className = error ? "boot error" : "boot";
  p.setAttribute("role", error ? "alert" : "status");
  p.textContent = text;
  root.append(p);
}

function firstRender(from: "saved" | "app"): void {
  if (document.documentElement.dataset.firstRender) return;
  performance.mark("weft-first-render");
  document.documentElement.dataset.firstRender = from;
}

/**
 * Show the saved view when the page opens on its space's task list (or on
 * the start page, which goes to the space open last). Resolves with it, or
 * with a notice when one was there and was refused.
 */
async function showSaved(db: WeftDb, progress: VerifyCounts): Promise<{ shown?: Snapshot; notice?: Notice }> {
  const [loaded, current] = await Promise.all([
    loadSnapshot(db, await defaultVerifier()),
    db.get("settings", "space"),
  ]);
  if (loaded === undefined) return {};
  if ("refused" in loaded) {
    const text = `The saved view of your last visit was not shown: ${loaded.refused}. Everything is verified anew.`;
    say(`Checking this space's signed operations… (${text})`);
    return { notice: { text, error: true } };
  }
  const s = loaded.snapshot;
  const route = parseRoute(location.hash);
  const fits = route.view === "home"
    ? current === s.space
    : route.view === "tasks" && route.space === s.space && route.query.size === 0;
  if (!fits) return {};
  root.textContent = "";
  render(<SavedView snapshot={s} progress={progress} />, root);
  firstRender("saved");
  return { shown: s };
}

async function start(): Promise<void> {
  await holdTabLock(() => say("Weft is open in another tab of this browser; it starts here once that tab is closed."));
  const db = await openWeftDb();
  const opened = await openVerifier(db, new WorkerVerifier(await defaultVerifier()));
  const saved = await showSaved(db, opened.verifier.counts);
  await loadAutomerge();
  performance.mark("weft-node-opening");
  const bn = await BrowserNode.open(location, db, opened.verifier);
  performance.measure("weft-node-open", "weft-node-opening");
  addEventListener("online", () => bn.reconnect());
  // A hidden tab may be discarded without notice (phones do): keep what it holds on disk.
  addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") void bn.flush();
  });
  Object.assign(globalThis, { weft: bn });
  const notice = (saved.shown ? notConfirmed(saved.shown, bn) : saved.notice) ??
    (opened.refused
      ? {
        text:
          `This browser's record of the signatures it verified before was not used: ${opened.refused}. Everything was verified anew.`,
        error: true,
      }
      : undefined);
  render(null, root);
  root.textContent = "";
  render(<App bn={bn} notice={notice} />, root);
  firstRender("app");
  performance.mark("weft-interactive");
  keepSnapshot(bn);
  document.documentElement.dataset.ready = "true";
  registerServiceWorker();
}

start().catch((e: Error) => say(`Weft could not start: ${e.message}`, true));
