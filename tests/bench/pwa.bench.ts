/**
 * The dashboard in Debian's Chromium against a local peer daemon: time to
 * interactive (navigation start to the app rendered with its node open),
 * cold (a fresh profile: no service worker, cache or IndexedDB; target
 * < 1 s) and warm (a reload served by the service worker); with a space of
 * 1,000, 10,000 and 50,000 tasks, on reload, the first render (from the
 * saved view this browser verified and signed last time) against the
 * verified app (the node reads, verifies and reduces every signed
 * operation from IndexedDB first), with the time it took to receive the
 * tasks over WebSocket; and the bundle sizes. `WEFT_PWA_SIZES=1000,10000`
 * picks the sizes.
 */
import { readFile } from "node:fs/promises";
import process from "node:process";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { testDaemon } from "../helpers/daemon.ts";
import { eventually } from "../helpers/nodes.ts";
import { appReady, openProfile } from "../e2e/chromium.ts";
import { ensurePwaBuilt } from "../e2e/pwa-build.ts";
import type { Sizes } from "../../pwa/build/sizes.ts";
import { percentile, report } from "./report.ts";

const BENCH = "pwa";
const SIZES = (process.env.WEFT_PWA_SIZES ?? "1000,10000,50000").split(",").map(Number);

ensurePwaBuilt();
const built = JSON.parse(
  await readFile(fileURLToPath(new URL("../../pwa/dist/build-report.json", import.meta.url)), "utf8"),
) as { sizes: Sizes };
const kb = (n: number) => n / 1024;
report({ bench: BENCH, metric: "initial-js", value: kb(built.sizes.initialJs), unit: "kB" });
report({ bench: BENCH, metric: "initial-js-gzip", value: kb(built.sizes.initialJsGzip), unit: "kB" });
report({ bench: BENCH, metric: "css-gzip", value: kb(built.sizes.cssGzip), unit: "kB" });
report({ bench: BENCH, metric: "wasm", value: kb(built.sizes.wasm), unit: "kB" });
report({ bench: BENCH, metric: "wasm-gzip", value: kb(built.sizes.wasmGzip), unit: "kB" });
report({ bench: BENCH, metric: "precache", value: kb(built.sizes.precache), unit: "kB" });
report({
  bench: BENCH,
  metric: "lazy-js",
  value: kb(built.sizes.lazyJs),
  unit: "kB",
  note: "loaded only on demand: libp2p (never in browsers), the WASM job runner, manifest verification",
});
report({
  bench: BENCH,
  metric: "lazy-wasm",
  value: kb(built.sizes.lazyWasm),
  unit: "kB",
  note: "jco's transpiler, loaded only when the tab offers capacity",
});

const mark = (page: Page, name: string) =>
  page.evaluate((n) => {
    const e = performance.getEntriesByName(n)[0];
    return e ? e.startTime + (e.entryType === "measure" ? e.duration : 0) : NaN;
  }, name);
const duration = (page: Page, name: string) =>
  page.evaluate((n) => performance.getEntriesByName(n)[0]?.duration ?? NaN, name);
const median = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50);

const d = await testDaemon();
try {
  // Cold: each visit in a fresh profile.
  const cold: number[] = [];
  for (let i = 0; i < 3; i++) {
    const p = await openProfile();
    await p.page.goto(d.daemon.url);
    await appReady(p.page);
    cold.push(await mark(p.page, "weft-interactive"));
    await p.close();
  }
  report({ bench: BENCH, metric: "tti-cold", value: median(cold), unit: "ms", note: "median of 3; target < 1000" });

  // Warm: reloads once the service worker is active.
  const p = await openProfile();
  await p.page.goto(d.daemon.url);
  await appReady(p.page);
  await p.page.waitForFunction(async () => (await navigator.serviceWorker.ready).active?.state === "activated");
  const warm: number[] = [];
  for (let i = 0; i < 5; i++) {
    await p.page.reload();
    await appReady(p.page);
    warm.push(await mark(p.page, "weft-interactive"));
  }
  await p.close();
  report({
    bench: BENCH,
    metric: "tti-warm",
    value: median(warm),
    unit: "ms",
    baseline: median(cold),
    note: "median of 5; baseline: cold",
  });

  for (const n of SIZES) {
    const space = await d.daemon.node.createSpace(`bench ${n}`);
    let next = 0;
    await Promise.all(Array.from({ length: 16 }, async () => {
      while (next < n) {
        const i = next++;
        await space.createTask({ title: `task ${i}`, labels: [`l${i % 10}`], body: "x".repeat(100) });
      }
    }));
    const b = await openProfile();
    await b.page.goto(d.daemon.url);
    await appReady(b.page);
    const invite = await d.daemon.node.invite(space.id);
    const t = performance.now();
    await b.page.evaluate(async ({ invite, id, n }) => {
      type W = {
        weft: {
          join(i: string): Promise<unknown>;
          flush(): Promise<void>;
          node: { space(id: string): { log: { size: number } } };
        };
      };
      const weft = (globalThis as unknown as W).weft;
      await weft.join(invite);
      while ((weft.node.space(id)?.log.size ?? 0) < n) await new Promise((r) => setTimeout(r, 100));
      await weft.flush();
    }, { invite, id: space.id, n });
    report({
      bench: BENCH,
      metric: `sync-in-${n}`,
      value: performance.now() - t,
      unit: "ms",
      note: "join to all tasks verified in the browser and written to IndexedDB",
    });
    // The app saves its view a moment after the space changes: the next visit starts from it.
    await eventually(
      () =>
        b.page.evaluate(async (n) => {
          type Db = { get(store: string, key: string): Promise<{ json: string } | undefined> };
          const stored = await (globalThis as unknown as { weft: { db: Db } }).weft.db.get("settings", "snapshot");
          return JSON.parse(stored?.json ?? "{}").total === n;
        }, n),
      300_000,
      `the saved view of ${n} tasks`,
    );
    const loads: number[] = [];
    const opens: number[] = [];
    const firsts: number[] = [];
    for (let i = 0; i < 3; i++) {
      await b.page.reload();
      await appReady(b.page, 600_000);
      const count = await b.page.evaluate(
        (id) =>
          (globalThis as unknown as { weft: { node: { space(id: string): { log: { size: number } } } } }).weft.node
            .space(id)?.log.size,
        space.id,
      );
      if (count !== n) throw new Error(`reloaded with ${count} tasks, expected ${n}`);
      const from = await b.page.evaluate(() => document.documentElement.dataset.firstRender);
      if (from !== "saved") throw new Error(`the reload rendered first from ${from}, not the saved view`);
      firsts.push(await mark(b.page, "weft-first-render"));
      loads.push(await mark(b.page, "weft-interactive"));
      opens.push(await duration(b.page, "weft-node-open"));
    }
    await b.close();
    report({
      bench: BENCH,
      metric: `idb-load-${n}`,
      value: median(opens),
      unit: "ms",
      note: "opening the node: IndexedDB read, verify, reduce",
    });
    report({
      bench: BENCH,
      metric: `tti-with-${n}-tasks`,
      value: median(loads),
      unit: "ms",
      baseline: median(warm),
      note: "the verified app: every operation read, verified and reduced; baseline: warm, empty",
    });
    report({
      bench: BENCH,
      metric: `first-render-with-${n}-tasks`,
      value: median(firsts),
      unit: "ms",
      baseline: median(loads),
      note:
        "the saved view, marked as being checked (read-only until the node is open); baseline: the verified app; target < 1000",
    });
  }
} finally {
  await d.stop();
}
