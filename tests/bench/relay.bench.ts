/**
 * Relay load: 500 WebSocket clients (stock automerge-repo clients with
 * membership tokens) in 50 spaces, all through one relay process — the real
 * entry point, `peer/relay/node.ts`, with its durable storage. A member per
 * space brings the space to the relay and then leaves, keeping only its key
 * and chain to issue the clients' tokens (so that the client process does
 * the same work in both runs). Each client writes a stream of small changes
 * to its space document; every other client in the space receives them.
 * Reports the time to connect, deliveries per second and the p50/p95
 * write-to-delivery latency, and the server's CPU time per 1,000 deliveries
 * while the clients write (which a busy machine disturbs less than a rate:
 * it counts the CPU the server used, not the share of the machine it got),
 * against the stock automerge-repo WebSocket
 * server (nodefs storage, no membership checks) run the same way, with the
 * same clients and writes, in the same run, serving the same documents:
 * each space document as its creator left it on the relay (content and
 * history; automerge's sync work grows with both, so an empty document
 * would flatter the baseline). Each server runs in a process
 * of its own, and each run's clients in fresh ones (relay-clients.ts):
 * clients sharing one process across both runs made whichever ran second
 * look nearly twice as fast, and 500 clients in one process paced the run
 * (the servers idled, and dropped clients that went 30 s without a word),
 * so they run about 100 to a process, whole spaces each, writing together.
 * Each client finds its document once: no retries. While the clients
 * write, a socket of the bench's own pings each server, one ping at a time
 * (pingProbe): how long a server leaves its sockets unread, which is what a
 * joining client or a health check waits — the stock server answers its
 * messages in the turn it reads them, so under this load its event loop
 * runs seconds at a time without reading a socket.
 * `WEFT_BENCH_SERVER_FLAGS` passes Node flags to both servers (e.g.
 * `--cpu-prof --cpu-prof-dir=DIR` to profile each side of the same run).
 *
 * The hostile-load variant: 100 good clients (10 spaces × 10) on a fresh
 * relay beside 200 hostile sockets (oversized frames, slowloris, garbage;
 * hostile-sockets.ts), against the same on a fresh relay without them:
 * the good clients' p95 write-to-delivery and the relay's peak RSS.
 */
import type { ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Buffer } from "node:buffer";
import process from "node:process";
import { percentile, report } from "./report.ts";
import {
  cpuSeconds,
  hostSpaces,
  peakRssMb,
  pingProbe,
  runClients,
  startHostile,
  startRelay,
  startServer,
  stopServer,
  tokenUrl,
} from "./relay-rig.ts";
import type { ClientsResult } from "./relay-clients.ts";

const BENCH = "relay";
const SPACES = Number(process.env.WEFT_BENCH_SPACES ?? 50);
const PER_SPACE = Number(process.env.WEFT_BENCH_CLIENTS_PER_SPACE ?? 10);
const WRITES = 10;
/** Every delivery must arrive; this is how long the clients wait for the last. */
const DELIVERY_TIMEOUT_MS = 180_000;
/** The hostile-load variant: good clients (spaces × per space) beside hostile sockets. */
const HOSTILE_SPACES = 10;
const HOSTILE_SOCKETS = 200;

const home = await mkdtemp(join(tmpdir(), "weft-relay-bench-"));

/**
 * The server's CPU seconds from when every client has found its document to
 * when the deliveries are counted: what the writes cost it, whatever share of
 * the machine it got (wall-clock rates on a shared machine depend on that).
 */
function writeCpu(server: ChildProcess) {
  let start: Promise<number> | undefined;
  return {
    connected: () => void (start = cpuSeconds(server)),
    spent: async () => (await cpuSeconds(server)) - (await start!),
  };
}

/** One load of stock clients against a fresh relay process, `hostile` sockets beside them. */
async function relayRun(spaces: number, hostile: number) {
  const relay = await startRelay(join(home, `relay-${spaces}-${hostile}`));
  const hosted = await hostSpaces(relay, spaces);
  const attack = hostile > 0 ? await startHostile(relay.url, hostile) : undefined;
  try {
    const cpu = writeCpu(relay.child);
    const probe = await pingProbe(await tokenUrl(relay, hosted[0]));
    const result = await runClients(
      {
        docs: hosted.map((x) => x.url),
        perSpace: PER_SPACE,
        server: "token",
        writes: WRITES,
        deliveryTimeoutMs: DELIVERY_TIMEOUT_MS,
      },
      (doc) => tokenUrl(relay, hosted[doc]),
      () => {
        cpu.connected();
        probe.start();
      },
    ).result;
    const answers = probe.stop();
    return { result, answers, cpu: await cpu.spent(), rss: await peakRssMb(relay.child), hosted };
  } finally {
    await attack?.stop();
    await stopServer(relay.child);
  }
}

const { hosted: weftSpaces, ...weft } = await relayRun(SPACES, 0);
const relayRss = weft.rss;

// Baseline: the stock automerge-repo sync server, same clients, same writes.
const stock = await startServer(
  [new URL("./stock-sync-server.ts", import.meta.url).pathname, join(home, "stock")],
  {},
  /port (\d+)\n/,
);
const stockUrl = `ws://127.0.0.1:${stock.match[1]}`;
// The same documents, content and history, as the relay's spaces held before the clients wrote.
stock.child.stdin!.write(`import ${weftSpaces.map((h) => Buffer.from(h.saved).toString("base64")).join(" ")}\n`);
while (!/docs .+\n/.test(stock.output())) await new Promise((r) => setTimeout(r, 20));
const stockDocs = /docs (.+)\n/.exec(stock.output())![1].split(" ");
const stockCpu = writeCpu(stock.child);
const stockProbe = await pingProbe(stockUrl);
const plain = await runClients(
  {
    docs: stockDocs,
    perSpace: PER_SPACE,
    server: stockUrl,
    writes: WRITES,
    deliveryTimeoutMs: DELIVERY_TIMEOUT_MS,
  },
  undefined,
  () => {
    stockCpu.connected();
    stockProbe.start();
  },
).result;
const stockAnswers = stockProbe.stop();
const stockWriteCpu = await stockCpu.spent();
const stockRss = await peakRssMb(stock.child);
await stopServer(stock.child);

// Hostile load: fewer good clients, on a fresh relay, with and without hostile sockets beside them.
const calm = await relayRun(HOSTILE_SPACES, 0);
const besieged = await relayRun(HOSTILE_SPACES, HOSTILE_SOCKETS);
await rm(home, { recursive: true, force: true });

const baselineNote = "baseline: stock automerge-repo WebSocket server with nodefs storage";
/** Why the clients' sockets closed while they ran, e.g. "1006 ×12" (none: "none"). */
const closes = (r: ClientsResult) => Object.entries(r.closes).map(([why, n]) => `${why} ×${n}`).join(", ") || "none";
report({
  bench: BENCH,
  metric: "clients-connected",
  value: weft.result.clients,
  unit: "clients",
  baseline: plain.clients,
  note: `${SPACES} spaces, each client finds its document once (no retries): ${weft.result.failures.length} ` +
    `failed, sockets reconnected ${weft.result.reconnects} (closed: ${closes(weft.result)}) ` +
    `(baseline ${plain.failures.length}, ${plain.reconnects} (closed: ${closes(plain)}))`,
});
report({
  bench: BENCH,
  metric: "connect-all",
  value: weft.result.connectSeconds,
  unit: "s",
  baseline: plain.connectSeconds,
  note:
    `up to 12 connecting at once over the clients' processes (the relay decides 16 upgrades per address at a time), each with its own token; ${baselineNote}`,
});
report({
  bench: BENCH,
  metric: "p95-connect",
  value: percentile(weft.result.connectTimes, 95),
  unit: "ms",
  baseline: percentile(plain.connectTimes, 95),
});
report({
  bench: BENCH,
  metric: "deliveries-per-second",
  value: weft.result.rate,
  unit: "msg/s",
  baseline: plain.rate,
  note: `${weft.result.delivered}/${weft.result.expected} delivered, ${weft.result.failedWrites} writes failed ` +
    `(baseline ${plain.delivered}/${plain.expected}, ${plain.failedWrites})`,
});
for (const q of [50, 95]) {
  report({
    bench: BENCH,
    metric: `p${q}-write-to-delivery`,
    value: percentile(weft.result.latencies, q),
    unit: "ms",
    baseline: percentile(plain.latencies, q),
  });
}
report({
  bench: BENCH,
  metric: "server-cpu-per-1k-deliveries",
  value: (weft.cpu * 1000_000) / weft.result.delivered,
  unit: "ms",
  baseline: (stockWriteCpu * 1000_000) / plain.delivered,
  note: "the server's CPU time (user + system) while the clients write, per 1,000 deliveries",
});
report({
  bench: BENCH,
  metric: "clients-cpu-per-1k-deliveries",
  value: (weft.result.writeCpuMs * 1000) / weft.result.delivered,
  unit: "ms",
  baseline: (plain.writeCpuMs * 1000) / plain.delivered,
  note: "the client processes' CPU from their first write to their last delivery, per 1,000 deliveries: on two cores " +
    "the clients and the server share the machine, so what the server makes the clients do slows its own deliveries",
});
report({
  bench: BENCH,
  metric: "server-frames-per-delivery",
  value: weft.result.frames.in / weft.result.delivered,
  unit: "frames",
  baseline: plain.frames.in / plain.delivered,
  note: `frames the server sent the clients while they wrote, per delivery (${
    (weft.result.frames.bytesIn / weft.result.delivered).toFixed(0)
  } B, baseline ${(plain.frames.bytesIn / plain.delivered).toFixed(0)} B); the clients sent ${
    (weft.result.frames.out / weft.result.delivered).toFixed(2)
  } (baseline ${(plain.frames.out / plain.delivered).toFixed(2)})`,
});
const relayAnswers = weft.answers.sort((a, b) => a - b);
stockAnswers.sort((a, b) => a - b);
report({
  bench: BENCH,
  metric: "server-answer-p99",
  value: percentile(relayAnswers, 99),
  unit: "ms",
  baseline: percentile(stockAnswers, 99),
  note: `how long a WebSocket ping waited for the server's answer while the clients wrote (one ping at a time, ` +
    `${relayAnswers.length} pings, baseline ${stockAnswers.length}): how long the server read no socket, so that ` +
    `a joining client, or /healthz, waited as long`,
});
report({
  bench: BENCH,
  metric: "server-answer-max",
  value: relayAnswers.at(-1)!,
  unit: "ms",
  baseline: stockAnswers.at(-1)!,
});
report({ bench: BENCH, metric: "server-peak-rss", value: relayRss, unit: "MB", baseline: stockRss });

// The hostile-load variant; its baseline is the same relay and clients without the hostile sockets.
const hostileNote = `${HOSTILE_SPACES * PER_SPACE} good clients beside ${HOSTILE_SOCKETS} hostile sockets ` +
  `(oversized frames, slowloris, garbage); baseline: the same without them`;
report({
  bench: BENCH,
  metric: "hostile-clients-connected",
  value: besieged.result.clients,
  unit: "clients",
  baseline: calm.result.clients,
  note: `${besieged.result.failures.length} finds failed (baseline ${calm.result.failures.length}); ${hostileNote}`,
});
report({
  bench: BENCH,
  metric: "hostile-deliveries",
  value: besieged.result.delivered,
  unit: "msg",
  baseline: calm.result.delivered,
  note: `expected ${besieged.result.expected} (baseline ${calm.result.expected})`,
});
report({
  bench: BENCH,
  metric: "hostile-p95-write-to-delivery",
  value: percentile(besieged.result.latencies, 95),
  unit: "ms",
  baseline: percentile(calm.result.latencies, 95),
});
report({ bench: BENCH, metric: "hostile-relay-peak-rss", value: besieged.rss, unit: "MB", baseline: calm.rss });
process.exit(0);
