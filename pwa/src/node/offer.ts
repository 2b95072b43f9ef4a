/**
 * This tab's capacity for WebAssembly jobs, off until the user turns it on.
 * On, the tab runs the same scheduler as a headless peer
 * (protocol/scheduler) with one runner, wasm-runners/runtime-browser (each job in a
 * Web Worker), and advertises itself on every space's gossip as an
 * ephemeral node with one slot, so placement can pick it. Programs and
 * inputs are fetched from the mesh by CID and kept in IndexedDB with the
 * outputs, which this node serves to peers; each run's manifest is signed
 * here (protocol/artifacts/build.ts) and its CID recorded in the result.
 *
 * The runner code (jco's transpiler) and the manifest signing are loaded
 * only when the offer is turned on, so tabs that never offer capacity never
 * download them.
 *
 * What a browser can measure is less than a peer can: cores are
 * `navigator.hardwareConcurrency`, memory `navigator.deviceMemory` (1 GB
 * if the browser does not say, at most the 4 GiB a wasm32 job can address)
 * less this page's heap, and load is the jobs this tab runs — there is no
 * load average in a browser.
 */
import type { CapacityAdvert } from "#protocol/capacity";
import { WeftError } from "#protocol";
import type { WeftNode } from "#protocol/node";
import { meshContentStore } from "#protocol/runner";
import { Scheduler, serveRunLogs } from "#protocol/scheduler";
import { Commands } from "#protocol/ucan";
import { idbContentStore } from "./blob-store.ts";
import type { WeftDb } from "./db.ts";

export type OfferState = "off" | "starting" | "on" | "stopping" | "failed";

const WASM32_MB = 4096;
const UNKNOWN_DEVICE_GB = 1;

/** What this tab says it is in its adverts. */
export const TAB_VERSION = "weft-pwa";

interface Stoppable {
  close(): Promise<void>;
}

export class CapacityOffer {
  readonly #node: WeftNode;
  readonly #db: WeftDb;
  readonly #periodMs: number;
  readonly #listeners = new Set<() => void>();
  #state: OfferState = "off";
  #error?: string;
  #scheduler?: Scheduler;
  #runner?: Stoppable;
  #timer?: ReturnType<typeof setInterval>;
  #soon?: ReturnType<typeof setTimeout>;

  constructor(node: WeftNode, db: WeftDb, periodMs = 10_000) {
    this.#node = node;
    this.#db = db;
    this.#periodMs = periodMs;
    // Outputs of earlier runs stay fetchable by peers, whether or not the offer is on.
    node.serveBlobs(idbContentStore(db));
  }

  get state(): OfferState {
    return this.#state;
  }

  get error(): string | undefined {
    return this.#error;
  }

  /** The scheduler while the offer is on (its runs and their logs). */
  get scheduler(): Scheduler | undefined {
    return this.#scheduler;
  }

  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #set(state: OfferState, error?: string): void {
    this.#state = state;
    this.#error = error;
    for (const l of this.#listeners) l();
  }

  async start(): Promise<void> {
    if (this.#state === "on" || this.#state === "starting") return;
    this.#set("starting");
    try {
      const [{ createBrowserWasmRunner }, { publishRun }] = await Promise.all([
        import("../../../wasm-runners/runtime-browser/runner.ts"),
        import("./publish.ts"),
      ]);
      const runner = createBrowserWasmRunner({ warm: false });
      if (!(await runner.available())) {
        throw new WeftError("Unsupported", "wasm/unavailable", "this browser cannot run WebAssembly in Web Workers");
      }
      const local = idbContentStore(this.#db);
      const node = this.#node;
      const scheduler: Scheduler = new Scheduler({
        did: node.did,
        spaces: () => node.spaces(),
        adverts: (space) => node.gossip(space)?.adverts() ?? [],
        runners: [runner],
        store: meshContentStore(local, (cid, signal) => node.fetchBlob(cid, signal)),
        slots: 1,
        diagnostics: node.diagnostics,
        capacityChanged: () => this.#advertiseSoon(),
        publish: (run, result) => publishRun(node, this.#db, run, result),
      });
      this.#runner = runner;
      this.#scheduler = scheduler;
      serveRunLogs(node, scheduler);
      scheduler.start();
      await this.advertise();
      this.#timer = setInterval(() => void this.advertise(), this.#periodMs);
      this.#set("on");
    } catch (e) {
      this.#set("failed", (e as Error).message);
    }
  }

  async stop(): Promise<void> {
    if (this.#state !== "on") return;
    this.#set("stopping");
    clearInterval(this.#timer);
    clearTimeout(this.#soon);
    this.#timer = this.#soon = undefined;
    await this.#scheduler?.stop();
    await this.#runner?.close();
    this.#runner = undefined;
    // Say so at once rather than waiting for the last advert to lapse: no runners, no slots.
    await this.advertise(true);
    this.#set("off");
  }

  /** What this tab offers now. */
  measure(off = false): CapacityAdvert {
    const nav = navigator as Navigator & { deviceMemory?: number };
    // A job's linear memory is 32-bit: 4 GiB at most, whatever the device has.
    const totalMb = Math.min(WASM32_MB, Math.round((nav.deviceMemory ?? UNKNOWN_DEVICE_GB) * 1024));
    const heap = (performance as Performance & { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? 0;
    const s = this.#scheduler;
    const running = off || !s ? 0 : s.running;
    return {
      cpu: { cores: nav.hardwareConcurrency || 1, load: running },
      memoryMb: { total: totalMb, free: Math.max(0, totalMb - Math.round(heap / (1024 * 1024))) },
      gpus: 0,
      runners: off || !s ? [] : s.kinds,
      tags: ["browser"],
      version: TAB_VERSION,
      running,
      slots: off || !s ? 0 : s.free,
      ephemeral: true,
      ttl: off ? 5 : Math.ceil((3 * this.#periodMs) / 1000),
    };
  }

  /** Advertise in every space this node may advertise in. */
  async advertise(off = false): Promise<void> {
    const advert = this.measure(off);
    const now = Math.floor(Date.now() / 1000);
    for (const space of this.#node.spaces()) {
      const gossip = this.#node.gossip(space.id);
      if (!gossip || space.authority.chainsFor(this.#node.did, Commands.capacityAdvertise, now).length === 0) continue;
      await gossip.advertise(advert).catch(() => {});
    }
  }

  #advertiseSoon(): void {
    if (this.#soon || this.#timer === undefined) return;
    this.#soon = setTimeout(() => {
      this.#soon = undefined;
      void this.advertise();
    }, 100);
  }
}
