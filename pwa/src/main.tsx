/**
 * The entry point: take this browser's node lock, show the saved view of
 * the space being opened if there is one that checks out (ui/saved-view.tsx:
 * interactive at once, what the user does there waiting, node/intents.ts),
 * load automerge's wasm, open the browser node behind it (key, IndexedDB,
 * peers: every operation read and verified, signatures this device verified
 * on an earlier visit answered from its signed record,
 * node/verified-store.ts, with the count shown as progress; the others
 * checked in workers, verify/), judge the saved view and then the waiting
 * actions against the verified state, render the app, then register the
 * service worker so the next visit works offline. The node is also
 * reachable as `weft` in the console (and from end-to-end tests). The marks
 * `weft-first-render` (with `data-first-render`: "saved" or "app"),
 * `weft-interactive` (the user can act: `data-interactive`), `weft-node-open`
 * and `weft-caught-up` (the verified app: `data-ready`) time the start-up.
 */
import "./styles.css";
import { render } from "preact";
import { registerServiceWorker } from "./boot/service-worker.ts";
import { holdTabLock } from "./boot/tab-lock.ts";
import { loadAutomerge } from "./boot/wasm.ts";
import { defaultVerifier, loadOrCreate, type VerifyCounts } from "#protocol/identity";
import { parseRoute } from "./model/route.ts";
import { BrowserNode } from "./node/browser-node.ts";
import { openWeftDb, type WeftDb } from "./node/db.ts";
import { describe, IntentQueue, type Outcome } from "./node/intents.ts";
import { browserKeystore } from "./node/keystore.ts";
import { loadSnapshot, type Snapshot } from "./node/snapshot.ts";
import { openVerifier } from "./node/verified-store.ts";
import { WorkerVerifier } from "./verify/worker-verifier.ts";
import { App } from "./ui/app.tsx";
import type { Notice } from "./ui/context.ts";
import { judgeSnapshot, keepSnapshot } from "./ui/keep-snapshot.ts";
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

/** The user can act from now on (on the saved view, or the verified app). */
function interactive(): void {
  if (document.documentElement.dataset.interactive) return;
  performance.mark("weft-interactive");
  document.documentElement.dataset.interactive = "true";
}

function firstRender(from: "saved" | "app"): void {
  if (document.documentElement.dataset.firstRender) return;
  performance.mark("weft-first-render");
  document.documentElement.dataset.firstRender = from;
}

/**
 * Show the saved view when the page opens on its space's task list (or on
 * the start page, which goes to the space open last): interactive at once,
 * what the user does there waiting in `queue`. Resolves with it, or with a
 * notice when one was there and was refused.
 */
async function showSaved(
  db: WeftDb,
  progress: VerifyCounts,
  queue: IntentQueue,
): Promise<{ shown?: Snapshot; notice?: Notice }> {
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
  render(<SavedView snapshot={s} progress={progress} queue={queue} />, root);
  firstRender("saved");
  interactive();
  return { shown: s };
}

/** What became of the actions taken before the node caught up, as notices. */
function outcomes(list: Outcome[]): Notice[] {
  const refused = list.filter((o) => o.refused !== undefined);
  const made = list.length - refused.length;
  return [
    ...refused.map((o) => ({
      text: `${describe(o.intent)}, done before the check finished, was refused by the verified space: ${o.refused}`,
      error: true,
    })),
    ...(made > 0 ? [{ text: `${made} action(s) taken before the check finished were made, checked and saved` }] : []),
  ];
}

async function start(): Promise<void> {
  await holdTabLock(() => say("Weft is open in another tab of this browser; it starts here once that tab is closed."));
  const db = await openWeftDb();
  const opened = await openVerifier(db, new WorkerVerifier(await defaultVerifier()));
  const { signer } = await loadOrCreate(browserKeystore(db), "device");
  const intents = await IntentQueue.open(db, signer, opened.verifier);
  const saved = await showSaved(db, opened.verifier.counts, intents.queue);
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
  // Caught up: the saved view is judged first, then what the user did on it, against the verified state.
  const judged = saved.shown ? await judgeSnapshot(saved.shown, bn) : saved.notice;
  const made = outcomes(await intents.queue.runAll((id) => bn.node.space(id)));
  const notices = [
    ...(judged ? [judged] : []),
    ...(opened.refused
      ? [{
        text:
          `This browser's record of the signatures it verified before was not used: ${opened.refused}. Everything was verified anew.`,
        error: true,
      }]
      : []),
    ...(intents.refused
      ? [{ text: `Actions kept from your last visit were not made: ${intents.refused}.`, error: true }]
      : []),
    ...made,
  ];
  render(null, root);
  root.textContent = "";
  render(<App bn={bn} notices={notices} />, root);
  firstRender("app");
  interactive();
  performance.mark("weft-caught-up");
  keepSnapshot(bn);
  document.documentElement.dataset.ready = "true";
  registerServiceWorker();
}

start().catch((e: Error) => say(`Weft could not start: ${e.message}`, true));
