/**
 * A node's compute, set up once for every shell (the daemon and the
 * browser tab): the scheduler over the given runners, the capacity
 * advertiser that tells the mesh what this node offers (each runner's kind
 * and its own details), run-log serving to peers, and each runner's
 * warm-up, started without blocking. Programs and inputs are read from the
 * shell's local store, then from the mesh.
 */
import type { CapacityAdvert } from "../capacity/advert.ts";
import type { Signer } from "../identity/ed25519.ts";
import { CapacityAdvertiser } from "../capacity/advertiser.ts";
import type { WeftNode } from "../node/node.ts";
import { meshContentStore } from "../runner/mesh-store.ts";
import type { ManagedRunner } from "../runner/plugin.ts";
import type { ContentStore } from "../runner/runner.ts";
import { serveRunLogs } from "./run-log-service.ts";
import { Scheduler, type SchedulerOptions } from "./scheduler.ts";

/** What the shell measures of its machine; the runners, slots and running jobs are filled in here. */
export type MachineOffer = Omit<CapacityAdvert, "runners" | "runnerDetails" | "running" | "slots" | "ttl" | "host">;

export interface ComputeOptions {
  /** The runners this node serves (none: it runs nothing and advertises no slots). */
  runners: ManagedRunner[];
  /** Jobs run at once when there is a runner. */
  slots: number;
  /** Where programs, inputs and outputs are kept on this node; missing content is fetched from the mesh. */
  store: ContentStore;
  /** This machine's capacity now, given how many jobs run here. */
  machine(running: number): MachineOffer;
  /** How often it advertises; adverts live three times as long. */
  advertiseMs: number;
  /** Withdraw the advert at once on stop (a tab closing its offer), rather than letting it lapse. */
  withdrawOnStop?: boolean;
  publish: SchedulerOptions["publish"];
  leaseMs?: number;
  maxCrashes?: number;
  /** A runner's warm-up failed (it still runs jobs, warming up on the first). */
  warmUpFailed?(kind: string, error: unknown): void;
  /**
   * Advertise, claim, run and record as this principal held on the node (a
   * bridge joining the mesh as a node of its own, under its own delegation)
   * instead of as the node.
   */
  as?: Signer;
}

export interface Compute {
  readonly scheduler: Scheduler;
  readonly capacity: CapacityAdvertiser;
  /** Resolves once the first advert went out. */
  readonly advertised: Promise<void>;
  /** Stop every job (their leases released), stop advertising, close the runners. */
  stop(): Promise<void>;
}

/** What `runners` advertise beside their kinds, by kind; undefined when none says anything. */
function detailsOf(runners: ManagedRunner[]): CapacityAdvert["runnerDetails"] {
  const entries = runners.map((r) => [r.kind, r.advertise()] as const).filter(([, d]) => Object.keys(d).length > 0);
  return entries.length > 0 ? Object.fromEntries(entries) : undefined;
}

export function startCompute(node: WeftNode, o: ComputeOptions): Compute {
  const capacity = new CapacityAdvertiser(
    node,
    (withdrawn) => {
      const running = withdrawn ? 0 : scheduler.running;
      // Read at every advert: a runner's details change (a cluster's spare capacity, read after warm-up and each run).
      const details = detailsOf(o.runners);
      return {
        ...o.machine(running),
        runners: withdrawn ? [] : scheduler.kinds,
        ...(details && !withdrawn ? { runnerDetails: details } : {}),
        running,
        slots: withdrawn ? 0 : scheduler.free,
        // A principal held here says where its runs' logs are read: this node.
        ...(o.as ? { host: node.did } : {}),
      };
    },
    o.advertiseMs,
    o.as,
  );
  const scheduler: Scheduler = new Scheduler({
    did: o.as?.did ?? node.did,
    ...(o.as ? { as: o.as } : {}),
    spaces: () => node.spaces(),
    adverts: (space) => node.gossip(space)?.adverts() ?? [],
    runners: o.runners,
    store: meshContentStore(o.store, (cid, signal) => node.fetchBlob(cid, signal)),
    slots: o.runners.length > 0 ? o.slots : 0,
    leaseMs: o.leaseMs,
    maxCrashes: o.maxCrashes,
    diagnostics: node.diagnostics,
    capacityChanged: () => capacity.advertiseSoon(),
    publish: o.publish,
  });
  const unserveLogs = serveRunLogs(node, scheduler);
  scheduler.start();
  const advertised = capacity.start();
  const unwatch = o.runners.map((r) => r.onAdvertChange?.(() => capacity.advertiseSoon()));
  for (const r of o.runners) r.warmUp().catch((e) => o.warmUpFailed?.(r.kind, e));
  return {
    scheduler,
    capacity,
    advertised,
    async stop() {
      for (const off of unwatch) off?.();
      await capacity.stop(false);
      await scheduler.stop();
      await Promise.all(o.runners.map((r) => r.close()));
      unserveLogs();
      if (o.withdrawOnStop) await capacity.advertise(true);
    },
  };
}
