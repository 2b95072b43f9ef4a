/**
 * This tab's capacity for WebAssembly jobs, off until the user turns it on.
 * On, the tab sets up the same compute as a headless peer
 * (protocol/scheduler/compute.ts: scheduler, adverts, run-log serving) with
 * one runner, the wasm plug-in of wasm-runners/runtime-browser (each job in
 * a Web Worker), and advertises itself on every space's gossip as an
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
import { WeftError } from "#protocol";
import type { WeftNode } from "#protocol/node";
import { type Compute, type MachineOffer, type Scheduler, startCompute } from "#protocol/scheduler";
import { idbContentStore } from "./blob-store.ts";
import type { WeftDb } from "./db.ts";

export type OfferState = "off" | "starting" | "on" | "stopping" | "failed";

const WASM32_MB = 4096;
const UNKNOWN_DEVICE_GB = 1;

/** What this tab says it is in its adverts. */
export const TAB_VERSION = "weft-pwa";

/** What this tab's machine offers, given the jobs it runs. */
export function measureTab(running: number): MachineOffer {
  const nav = navigator as Navigator & { deviceMemory?: number };
  // A job's linear memory is 32-bit: 4 GiB at most, whatever the device has.
  const totalMb = Math.min(WASM32_MB, Math.round((nav.deviceMemory ?? UNKNOWN_DEVICE_GB) * 1024));
  const heap = (performance as Performance & { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? 0;
  return {
    cpu: { cores: nav.hardwareConcurrency || 1, load: running },
    memoryMb: { total: totalMb, free: Math.max(0, totalMb - Math.round(heap / (1024 * 1024))) },
    gpus: 0,
    tags: ["browser"],
    version: TAB_VERSION,
    ephemeral: true,
  };
}

export class CapacityOffer {
  readonly #node: WeftNode;
  readonly #db: WeftDb;
  readonly #periodMs: number;
  readonly #listeners = new Set<() => void>();
  #state: OfferState = "off";
  #error?: string;
  #compute?: Compute;

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

  /** The scheduler once the offer was turned on (its runs and their logs, kept after it is turned off). */
  get scheduler(): Scheduler | undefined {
    return this.#compute?.scheduler;
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
      const [{ wasmBrowserPlugin }, { publishRun }] = await Promise.all([
        import("../../../wasm-runners/runtime-browser/plugin.ts"),
        import("./publish.ts"),
      ]);
      const log = { debug: () => {}, info: () => {}, warn: (m: string) => console.warn(m) };
      const runner = await wasmBrowserPlugin.create(wasmBrowserPlugin.parseConfig(undefined), { log });
      if ("unavailable" in runner) {
        throw new WeftError("Unsupported", "wasm/unavailable", "this browser cannot run WebAssembly in Web Workers");
      }
      const node = this.#node;
      this.#compute = startCompute(node, {
        runners: [runner],
        slots: 1,
        store: idbContentStore(this.#db),
        machine: measureTab,
        advertiseMs: this.#periodMs,
        withdrawOnStop: true,
        publish: (run, result) => publishRun(node, this.#db, run, result),
      });
      await this.#compute.advertised;
      this.#set("on");
    } catch (e) {
      this.#set("failed", (e as Error).message);
    }
  }

  async stop(): Promise<void> {
    if (this.#state !== "on") return;
    this.#set("stopping");
    // Stops the jobs, closes the runner, and says at once that this tab offers nothing (no runners, no slots).
    await this.#compute?.stop();
    this.#set("off");
  }
}
