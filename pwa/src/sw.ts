/**
 * The service worker: what makes the dashboard open with no network.
 *
 * Install precaches the app shell — index.html, the entry chunks, styles,
 * the automerge wasm, manifest and icons — listed at build time into
 * PRECACHE under a cache named for this build. Navigations get the cached
 * shell; hashed assets are served cache-first, and any fetched later (a
 * lazily loaded chunk) are cached as they pass. Once it is active, the page
 * asks it to fetch everything else the app can load (LATER: the WASM job
 * runner and jco's transpiler, manifest checks), in the background, so
 * offering capacity works offline too without making the first install
 * wait for megabytes it may never use. The peer's API and sync endpoints
 * are never touched. A new build waits until the page asks it to take over
 * (the "update ready" prompt), then drops the old caches.
 */

/** Injected by the build: the files to precache, those to cache once active (relative to this worker), the build's id. */
declare const PRECACHE: string[];
declare const LATER: string[];
declare const BUILD: string;

interface ExtendableEvent extends Event {
  waitUntil(p: Promise<unknown>): void;
}
interface FetchEvent extends ExtendableEvent {
  readonly request: Request;
  respondWith(r: Response | Promise<Response>): void;
}
interface WorkerScope {
  readonly registration: { readonly scope: string };
  readonly clients: { claim(): Promise<void> };
  skipWaiting(): Promise<void>;
  addEventListener(type: "install" | "activate", listener: (e: ExtendableEvent) => void): void;
  addEventListener(type: "fetch", listener: (e: FetchEvent) => void): void;
  addEventListener(type: "message", listener: (e: ExtendableEvent & MessageEvent) => void): void;
}

const worker = self as unknown as WorkerScope;
const CACHE = `weft-${BUILD}`;
/** Served by a peer's API, never by the cache (only at the origin's root, where a peer serves it). */
const API = /^\/(v1\/|healthz$|readyz$|metrics$|openapi\.json$)/;

worker.addEventListener("install", (e) => {
  e.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(PRECACHE)));
});

worker.addEventListener("activate", (e) => {
  e.waitUntil((async () => {
    for (const name of await caches.keys()) if (name.startsWith("weft-") && name !== CACHE) await caches.delete(name);
    await worker.clients.claim();
  })());
});

worker.addEventListener("message", (e) => {
  const type = (e.data as { type?: string } | null)?.type;
  if (type === "skip-waiting") void worker.skipWaiting();
  else if (type === "cache-later") e.waitUntil(cacheLater());
});

/** Fetch into the cache what is not there yet of LATER (a failed file is tried again on the next visit). */
async function cacheLater(): Promise<void> {
  const cache = await caches.open(CACHE);
  for (const file of LATER) {
    const url = new URL(file, worker.registration.scope).href;
    if (await cache.match(url)) continue;
    const response = await fetch(url).catch(() => undefined);
    if (response?.ok) await cache.put(url, response);
  }
}

worker.addEventListener("fetch", (e) => {
  const request = e.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== location.origin || API.test(url.pathname)) return;
  if (request.mode === "navigate") {
    e.respondWith(shell(request));
  } else if (url.href.startsWith(new URL("assets/", worker.registration.scope).href)) {
    e.respondWith(cacheFirst(request, true));
  } else {
    e.respondWith(cacheFirst(request, false));
  }
});

/** The app shell for every navigation inside the scope: the app routes on the URL's hash. */
async function shell(request: Request): Promise<Response> {
  const cache = await caches.open(CACHE);
  const cached = await cache.match(new URL("index.html", worker.registration.scope).href);
  return cached ?? await fetch(request);
}

/** From the cache, else the network; `keep`: store what the network returned (hashed, immutable files). */
async function cacheFirst(request: Request, keep: boolean): Promise<Response> {
  const cache = await caches.open(CACHE);
  const cached = await cache.match(request, { ignoreSearch: true });
  if (cached) return cached;
  const response = await fetch(request);
  if (keep && response.ok) await cache.put(request, response.clone());
  return response;
}
