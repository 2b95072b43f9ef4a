/**
 * One worker peer of the `submit-to-start` bench, in a process of its own,
 * as a real node runs: its own libp2p node, scheduler and WASM sandboxes,
 * so the five peers' sync, gossip and sandbox starts compete for the CPU the
 * way separate nodes on one machine do rather than queue on one event loop.
 * It is driven over the IPC channel by the bench (`submit-to-start.bench.ts`)
 * and reports, per job, when the task first reached it, when it held its
 * claim, and when its runner started the job, on the shared wall clock
 * (`performance.timeOrigin + performance.now()`), and its CPU time at the end.
 *
 *   bench → worker   {dial: multiaddrs}  {join: invite}  {stop: true}
 *   worker → bench   {ready: multiaddr, did}  {dialed: true}  {joined: true}  {arrived|claimed: task, at}  {started: label, at}
 *                    {cpuMs}
 */
import process from "node:process";
import { multiaddr } from "@multiformats/multiaddr";
import type { Runner, RunSpec } from "../../protocol/runner/runner.ts";
import { Scheduler } from "../../protocol/scheduler/scheduler.ts";
import { createNodeWasmRunner } from "../../wasm-runners/runtime-node/runner.ts";
import { buildSamples } from "../../wasm-runners/samples/build.ts";
import { advert } from "../helpers/adverts.ts";
import { MemoryContentStore } from "../helpers/content-store.ts";
import { libp2pNode } from "../helpers/nodes.ts";
import { cpuMs } from "./report.ts";

const WORKER_SLOTS = 4;
const workerAdvert = advert({ memoryMb: { total: 4096, free: 2048 }, slots: WORKER_SLOTS, ttl: 600 });

/** Milliseconds on the clock every process of the bench shares. */
const wallNow = (): number => performance.timeOrigin + performance.now();

type Command = { dial: string[] } | { join: string } | { stop: true };

/** To the bench, while it listens: a bench that gave up takes its workers down with it. */
const send = (m: unknown) => process.connected && process.send!(m);
process.on("disconnect", () => process.exit(0));
const commands: Command[] = [];
let wake: (() => void) | undefined;
process.on("message", (m) => {
  commands.push(m as Command);
  wake?.();
});
async function next(): Promise<Command> {
  while (commands.length === 0) await new Promise<void>((r) => (wake = r));
  return commands.shift()!;
}

const { node } = await libp2pNode();
const store = new MemoryContentStore();
await store.put((await buildSamples()).hasher.component);
const wasm = createNodeWasmRunner();
await wasm.warmUp();
send({ ready: node.libp2p!.getMultiaddrs()[0].toString(), did: node.did });

for (const address of ((await next()) as { dial: string[] }).dial) await node.libp2p!.dial(multiaddr(address));
send({ dialed: true });
// A safety net, not a deadline: five processes starting on a busy 2-core machine.
const space = await node.join(((await next()) as { join: string }).join, { signal: AbortSignal.timeout(300_000) })
  .catch((e) => {
    throw new Error(
      `join failed (${(e as Error).message}); refusals here: ${JSON.stringify(node.diagnostics.refusals())}`,
    );
  });

const timed: Runner = {
  kind: "wasm",
  available: () => wasm.available(),
  start(spec: RunSpec, s) {
    send({ started: spec.env[0].value, at: wallNow() });
    return wasm.start(spec, s);
  },
};
let soon: ReturnType<typeof setTimeout> | undefined;
/** Re-advertises its free slots shortly after they change, as a peer daemon does. */
const scheduler: Scheduler = new Scheduler({
  did: node.did,
  spaces: () => node.spaces(),
  adverts: (s) => node.gossip(s)?.adverts() ?? [],
  runners: [timed],
  store,
  slots: WORKER_SLOTS,
  leaseMs: 30_000,
  capacityChanged: () =>
    soon ??= setTimeout(() => {
      soon = undefined;
      void node.gossip(space.id)!.advertise({ ...workerAdvert, running: scheduler.running, slots: scheduler.free });
    }, 100),
});
const arrived = new Set<string>();
const claimed = new Set<string>();
space.subscribe((e) => {
  if (e.type !== "tasks") return;
  const at = wallNow();
  for (const id of e.tasks) {
    if (!arrived.has(id)) {
      arrived.add(id);
      send({ arrived: id, at });
    }
    const t = space.task(id);
    if (!claimed.has(id) && t?.assignee === node.did && t.status !== "open") {
      claimed.add(id);
      send({ claimed: id, at });
    }
  }
});
await node.gossip(space.id)!.advertise(workerAdvert);
scheduler.start();
send({ joined: true });

await next(); // stop
await scheduler.stop();
await wasm.close();
await node.stop();
send({ cpuMs: cpuMs() });
