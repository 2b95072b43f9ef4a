/**
 * Relay load: 500 WebSocket clients (stock automerge-repo clients with
 * membership tokens) in 50 spaces, all through one relay process — the real
 * entry point, `peer/relay/node.ts`, with its durable storage. A member per
 * space brings the space to the relay and then leaves, keeping only its key
 * and chain to issue the clients' tokens (so that the client process does
 * the same work in both runs). Each client writes a stream of small changes
 * to its space document; every other client in the space receives them. Reports the time to connect, deliveries per second and the p50/p95
 * write-to-delivery latency, against the stock automerge-repo WebSocket
 * server (nodefs storage, no membership checks) run the same way, with the
 * same clients and writes, in the same run. The clients share this process;
 * the server under test has its own.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { type AutomergeUrl, type DocHandle, Repo } from "@automerge/automerge-repo";
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket";
import { nativeSigner } from "../../peer/crypto/native-signer.ts";
import { nativeVerifier } from "../../peer/crypto/native-verifier.ts";
import { requestArgs } from "../../peer/api/request.ts";
import { createNode } from "../../protocol/node/node.ts";
import { generateSeed, type Signer } from "../../protocol/identity/ed25519.ts";
import type { Delegation } from "../../protocol/ucan/delegation.ts";
import { WebSocketNetworkAdapter } from "../../protocol/sync/websocket-adapter.ts";
import { invoke } from "../../protocol/ucan/invocation.ts";
import { Commands } from "../../protocol/ucan/commands.ts";
import { encodeContainer } from "../../protocol/ucan/container.ts";
import { eventually, memoryKeystore } from "../helpers/nodes.ts";
import { percentile, report } from "./report.ts";

const BENCH = "relay";
const SPACES = Number(process.env.WEFT_BENCH_SPACES ?? 50);
const PER_SPACE = Number(process.env.WEFT_BENCH_CLIENTS_PER_SPACE ?? 10);
/** Clients connecting at once, as a crowd arriving would. */
const CONNECT_CONCURRENCY = 25;
const WRITES = 10;

/** A server process and what it printed; resolves once `ready` matches its output. */
async function startServer(args: string[], env: Record<string, string>, ready: RegExp) {
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  // However the bench ends, the server does not outlive it.
  process.once("exit", () => child.kill("SIGTERM"));
  let out = "";
  child.stdout!.setEncoding("utf8").on("data", (d: string) => (out += d));
  child.stderr!.setEncoding("utf8").on("data", (d: string) => process.stderr.write(d));
  const match = await new Promise<RegExpExecArray>((resolve, reject) => {
    const look = () => {
      const m = ready.exec(out);
      if (m) resolve(m);
    };
    child.stdout!.on("data", look);
    child.once("exit", (code) => reject(new Error(`${args[0]} exited with ${code} before it was ready:\n${out}`)));
  });
  return { child, match, output: () => out };
}

/** Peak resident memory of a process (Linux), in MB; NaN where /proc is not there. */
async function peakRssMb(child: ChildProcess): Promise<number> {
  const status = await readFile(`/proc/${child.pid}/status`, "utf8").catch(() => "");
  const kb = /VmHWM:\s+(\d+)/.exec(status);
  return kb ? Number(kb[1]) / 1024 : NaN;
}

async function stopServer(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await exited;
}

/** Each client writes its own top-level keys (no shared map for concurrent creators to fight over). */
type Doc = Record<string, unknown>;

/**
 * The stock client, kept from reconnecting once a run is over. Its sync
 * tokens are single-use, so each (re)connection — the stock client retries
 * by itself when a socket has not opened within 5 s, or closes — takes a
 * fresh URL, minted ahead of time because connecting is synchronous.
 */
class Client extends WebSocketClientAdapter {
  stopped = false;
  #spare?: string;
  readonly #urls: () => Promise<string>;

  constructor(first: string, urls: () => Promise<string>) {
    super(first);
    this.#urls = urls;
  }

  override connect(...args: Parameters<WebSocketClientAdapter["connect"]>): void {
    if (this.stopped) return;
    if (this.socket) {
      // A reconnect: the URL used so far is spent. The stock client drops its listeners from the old
      // socket without closing it, so an error that socket still raises would be unhandled.
      this.socket.addEventListener("error", () => {});
      reconnects++;
      const spare = this.#spare;
      this.#spare = undefined;
      if (spare === undefined) {
        void this.#urls().then((u) => {
          this.#use(u);
          if (!this.stopped) super.connect(...args);
          this.#mint();
        }, () => {});
        return;
      }
      this.#use(spare);
    }
    super.connect(...args);
    this.#mint();
  }

  /** The stock adapter reads `url` at each connect; its type only calls it read-only. */
  #use(url: string): void {
    (this as { url: string }).url = url;
  }

  #mint(): void {
    void this.#urls().then((u) => void (this.#spare = u), () => {});
  }

  /** Closing a socket that never opened makes ws emit "error", which the stock client no longer listens for. */
  override disconnect(): void {
    this.socket?.addEventListener("error", () => {});
    super.disconnect();
  }
}

let retries = 0;
/** Reconnections the stock client made by itself. */
let reconnects = 0;

/**
 * Connect a client and find its document, starting over (with a fresh URL,
 * so a fresh single-use token) if the find failed — under load a request
 * can reach the relay before it has the space loaded.
 */
async function connectClient(wsUrl: () => Promise<string>, url: AutomergeUrl) {
  for (let attempt = 1;; attempt++) {
    const adapter = new Client(await wsUrl(), wsUrl);
    const repo = new Repo({ network: [adapter] });
    try {
      return { adapter, repo, handle: await repo.find<Doc>(url, { signal: AbortSignal.timeout(60_000) }) };
    } catch (e) {
      adapter.stopped = true;
      await repo.shutdown().catch(() => {});
      if (attempt >= 5) throw e;
      retries++;
      await new Promise((r) => setTimeout(r, 500 * attempt));
    }
  }
}

/** Run `fn` over `items` with at most `n` in flight. */
async function pool<T, R>(items: T[], n: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return out;
}

/** Connect `PER_SPACE` clients per document, have each write `WRITES` changes, measure deliveries. */
async function load(docs: Array<{ url: string; clientUrl: () => Promise<string> }>) {
  const latencies: number[] = [];
  const connectTimes: number[] = [];
  let delivered = 0;
  let failedWrites = 0;
  const slots = docs.flatMap((doc, s) => Array.from({ length: PER_SPACE }, (_, j) => ({ doc, id: `c${s}x${j}` })));
  const connectStart = performance.now();
  const clients = await pool(slots, CONNECT_CONCURRENCY, async ({ doc, id }) => {
    const t0 = performance.now();
    const { adapter, repo, handle } = await connectClient(doc.clientUrl, doc.url as AutomergeUrl);
    connectTimes.push(performance.now() - t0);
    handle.on("change", ({ patches }) => {
      const now = performance.now();
      for (const p of patches) {
        const key = String(p.path[0]);
        if (p.action === "put" && p.path.length === 1 && key.startsWith("bench:") && !key.startsWith(`bench:${id}:`)) {
          latencies.push(now - (p.value as number));
          delivered++;
        }
      }
    });
    return { repo, adapter, handle: handle as DocHandle<Doc>, id };
  });
  const connectSeconds = (performance.now() - connectStart) / 1000;
  const start = performance.now();
  for (let w = 0; w < WRITES; w++) {
    // A key per write, so writes merged into one sync message are still each counted.
    for (const c of clients) {
      try {
        c.handle.change((d) => void (d[`bench:${c.id}:${w}`] = performance.now()));
      } catch {
        // The stock client can wedge a document when its socket drops mid-update; count, don't crash.
        failedWrites++;
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const expected = clients.length * WRITES * (PER_SPACE - 1);
  const deadline = performance.now() + 180_000;
  while (delivered < expected && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  connectTimes.sort((a, b) => a - b);
  for (const c of clients) {
    c.adapter.stopped = true;
    (c.adapter as { retryInterval: number }).retryInterval = 0;
    await c.repo.shutdown().catch(() => {});
  }
  return {
    clients: clients.length,
    connectSeconds,
    connectTimes,
    delivered,
    expected,
    failedWrites,
    rate: delivered / seconds,
    latencies,
  };
}

const home = await mkdtemp(join(tmpdir(), "weft-relay-bench-"));

// The relay under test, as deployed on Node.
const relay = await startServer(
  [new URL("../../peer/relay/node.ts", import.meta.url).pathname],
  { WEFT_HOME: join(home, "relay"), WEFT_HTTP_HOST: "127.0.0.1", WEFT_HTTP_PORT: "0", WEFT_LOG_LEVEL: "warn" },
  /Weft relay (did:key:\S+)\n\s+sync\s+(ws:\S+)\n/,
);
const [, relayDid, relayUrl] = relay.match;
const relayInfo = relayUrl.replace(/^ws:/, "http:").replace(/\/v1\/sync$/, "/v1/node");

// One member per space brings the space to the relay, then leaves it there.
const issuers: Array<{ signer: Signer; space: string; url: string; chain: Delegation[] }> = [];
for (let i = 0; i < SPACES; i++) {
  const node = await createNode({
    signer: nativeSigner(generateSeed()),
    verifier: nativeVerifier(),
    keystore: memoryKeystore(),
  });
  node.addNetwork((o) => new WebSocketNetworkAdapter(o)).connectTo(relayUrl, { carrier: true });
  const space = await node.createSpace(`space ${i}`);
  const chain = space.authority.chainsFor(node.did, Commands.spaceSync, Math.floor(Date.now() / 1000))[0];
  issuers.push({ signer: node.signer, space: space.id, url: space.url, chain });
  await eventually(
    async () => {
      const info = await (await fetch(relayInfo)).json() as { spaces: string[] };
      return info.spaces.includes(space.id);
    },
    30_000,
    `space ${i} on the relay`,
  );
  await node.stop();
}

/** A fresh single-use sync token for one connection to the relay. */
async function relayClientUrl(s: number): Promise<string> {
  const { signer, space, chain } = issuers[s];
  const inv = await invoke({
    issuer: signer,
    audience: relayDid,
    subject: space,
    command: Commands.spaceSync,
    args: requestArgs("GET", "/v1/sync"),
    proofs: chain,
    expiration: Math.floor(Date.now() / 1000) + 300,
  });
  const token = await encodeContainer([inv.bytes, ...chain.map((d) => d.bytes)], "C") as string;
  return `${relayUrl}?token=${encodeURIComponent(token)}`;
}

const weft = await load(issuers.map((x, s) => ({ url: x.url, clientUrl: () => relayClientUrl(s) })));
const relayRss = await peakRssMb(relay.child);
const weftRetries = retries;
const weftReconnects = reconnects;
await stopServer(relay.child);

// Baseline: the stock automerge-repo sync server, same clients, same writes.
retries = 0;
reconnects = 0;
const stock = await startServer(
  [new URL("./stock-sync-server.ts", import.meta.url).pathname, join(home, "stock")],
  {},
  /port (\d+)\n/,
);
const stockUrl = `ws://127.0.0.1:${stock.match[1]}`;
stock.child.stdin!.write(`create ${SPACES}\n`);
while (!/docs .+\n/.test(stock.output())) await new Promise((r) => setTimeout(r, 20));
const stockDocs = /docs (.+)\n/.exec(stock.output())![1].split(" ");
const plain = await load(stockDocs.map((url) => ({ url, clientUrl: () => Promise.resolve(stockUrl) })));
const stockRss = await peakRssMb(stock.child);
await stopServer(stock.child);
await rm(home, { recursive: true, force: true });

const baselineNote = "baseline: stock automerge-repo WebSocket server with nodefs storage";
report({
  bench: BENCH,
  metric: "clients-connected",
  value: weft.clients,
  unit: "clients",
  baseline: plain.clients,
  note: `${SPACES} spaces; finds retried ${weftRetries}, sockets reconnected ${weftReconnects} ` +
    `(baseline ${retries}, ${reconnects})`,
});
report({
  bench: BENCH,
  metric: "connect-all",
  value: weft.connectSeconds,
  unit: "s",
  baseline: plain.connectSeconds,
  note: `${CONNECT_CONCURRENCY} connecting at once, each with its own token; ${baselineNote}`,
});
report({
  bench: BENCH,
  metric: "p95-connect",
  value: percentile(weft.connectTimes, 95),
  unit: "ms",
  baseline: percentile(plain.connectTimes, 95),
});
report({
  bench: BENCH,
  metric: "deliveries-per-second",
  value: weft.rate,
  unit: "msg/s",
  baseline: plain.rate,
  note: `${weft.delivered}/${weft.expected} delivered, ${weft.failedWrites} writes failed ` +
    `(baseline ${plain.delivered}/${plain.expected}, ${plain.failedWrites})`,
});
for (const q of [50, 95]) {
  report({
    bench: BENCH,
    metric: `p${q}-write-to-delivery`,
    value: percentile(weft.latencies, q),
    unit: "ms",
    baseline: percentile(plain.latencies, q),
  });
}
report({ bench: BENCH, metric: "server-peak-rss", value: relayRss, unit: "MB", baseline: stockRss });
process.exit(0);
