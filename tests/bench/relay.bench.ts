/**
 * Relay load: 500 WebSocket clients (stock automerge-repo clients with
 * membership tokens) in 50 spaces, all through one relay, with each space's
 * member peer connected too. Each client writes a stream of small changes
 * to its space document; every other client in the space receives them.
 * Reports deliveries per second through the relay and the p50/p95
 * write-to-delivery latency, against the stock automerge-repo WebSocket
 * server (no membership checks) carrying the same load in the same run.
 */
import process from "node:process";
import { Repo } from "@automerge/automerge-repo";
import type { DocHandle } from "@automerge/automerge-repo";
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket";
import { createRelay } from "../../peer/relay/relay.ts";
import { serve } from "../../peer/http/serve.ts";
import { nativeSigner } from "../../peer/crypto/native-signer.ts";
import { nativeVerifier } from "../../peer/crypto/native-verifier.ts";
import { requestArgs } from "../../peer/api/request.ts";
import { MemoryStorageAdapter } from "../../protocol/storage/memory-storage.ts";
import { createNode, type WeftNode } from "../../protocol/node/node.ts";
import { generateSeed } from "../../protocol/identity/ed25519.ts";
import { WebSocketNetworkAdapter } from "../../protocol/sync/websocket-adapter.ts";
import { invoke } from "../../protocol/ucan/invocation.ts";
import { Commands } from "../../protocol/ucan/commands.ts";
import { encodeContainer } from "../../protocol/ucan/container.ts";
import { memoryKeystore } from "../helpers/nodes.ts";
import { WebSocketServerAdapter } from "@automerge/automerge-repo-network-websocket";
import { WebSocketServer } from "ws";
import type { AutomergeUrl } from "@automerge/automerge-repo";
import { percentile, report } from "./report.ts";

const BENCH = "relay";
const SPACES = Number(process.env.WEFT_BENCH_SPACES ?? 50);
const PER_SPACE = Number(process.env.WEFT_BENCH_CLIENTS_PER_SPACE ?? 10);
const WRITES = 10;

const relay = await createRelay({
  signer: nativeSigner(generateSeed()),
  storage: new MemoryStorageAdapter(),
  verifier: nativeVerifier(),
});
const http = await serve({ app: relay.app, host: "127.0.0.1", port: 0, upgrade: (u) => relay.upgrade(u) });
const url = `ws://127.0.0.1:${http.port}/v1/sync`;

// One member per space seeds the relay with the space and mints the clients' tokens.
const members: WeftNode[] = [];
const spaces: Array<{ id: string; url: string; tokens: string[] }> = [];
for (let i = 0; i < SPACES; i++) {
  const node = await createNode({
    signer: nativeSigner(generateSeed()),
    verifier: nativeVerifier(),
    keystore: memoryKeystore(),
  });
  node.addNetwork((o) => new WebSocketNetworkAdapter(o)).connectTo(url, { carrier: true });
  const space = await node.createSpace(`space ${i}`);
  members.push(node);
  const chain = space.authority.chainsFor(node.did, Commands.spaceSync, Math.floor(Date.now() / 1000))[0];
  const tokens: string[] = [];
  for (let j = 0; j < PER_SPACE; j++) {
    const inv = await invoke({
      issuer: node.signer,
      audience: relay.node.did,
      subject: space.id,
      command: Commands.spaceSync,
      args: requestArgs("GET", "/v1/sync"),
      proofs: chain,
      expiration: Math.floor(Date.now() / 1000) + 600,
    });
    tokens.push((await encodeContainer([inv.bytes, ...chain.map((d) => d.bytes)], "C")) as string);
  }
  spaces.push({ id: space.id, url: space.url, tokens });
}
while (relay.node.spaces().length < SPACES) await new Promise((r) => setTimeout(r, 50));

/** Each client writes its own top-level keys (no shared map for concurrent creators to fight over). */
type Doc = Record<string, unknown>;

/** The stock client, kept from reconnecting once a run is over. */
class Client extends WebSocketClientAdapter {
  stopped = false;
  override connect(...args: Parameters<WebSocketClientAdapter["connect"]>): void {
    if (!this.stopped) super.connect(...args);
  }
  /** Closing a socket that never opened makes ws emit "error", which the stock client no longer listens for. */
  override disconnect(): void {
    this.socket?.addEventListener("error", () => {});
    super.disconnect();
  }
}

let retriedFinds = 0;

/**
 * Connect a client and find its document, starting over if the server said
 * "unavailable" (under heavy load a request can reach the relay before it
 * has the space loaded).
 */
async function connectClient(wsUrl: string, url: AutomergeUrl) {
  for (let attempt = 1;; attempt++) {
    const adapter = new Client(wsUrl);
    const repo = new Repo({ network: [adapter] });
    try {
      return { adapter, repo, handle: await repo.find<Doc>(url, { signal: AbortSignal.timeout(60_000) }) };
    } catch (e) {
      adapter.stopped = true;
      await repo.shutdown().catch(() => {});
      if (attempt >= 5) throw e;
      retriedFinds++;
      await new Promise((r) => setTimeout(r, 500 * attempt));
    }
  }
}

/** Connect `PER_SPACE` clients per document, have each write `WRITES` changes, measure deliveries. */
async function load(docs: Array<{ url: string; clientUrl: (j: number) => string }>) {
  const clients: Array<{ repo: Repo; adapter: Client; handle: DocHandle<Doc>; id: string }> = [];
  const latencies: number[] = [];
  let delivered = 0;
  for (const [s, doc] of docs.entries()) {
    for (let j = 0; j < PER_SPACE; j++) {
      const { adapter, repo, handle } = await connectClient(doc.clientUrl(j), doc.url as AutomergeUrl);
      const id = `c${s}x${j}`;
      handle.on("change", ({ patches }) => {
        const now = performance.now();
        for (const p of patches) {
          const key = String(p.path[0]);
          if (
            p.action === "put" && p.path.length === 1 && key.startsWith("bench:") && !key.startsWith(`bench:${id}:`)
          ) {
            latencies.push(now - (p.value as number));
            delivered++;
          }
        }
      });
      clients.push({ repo, adapter, handle, id });
    }
  }
  const start = performance.now();
  for (let w = 0; w < WRITES; w++) {
    // A key per write, so writes merged into one sync message are still each counted.
    for (const c of clients) c.handle.change((d) => void (d[`bench:${c.id}:${w}`] = performance.now()));
    await new Promise((r) => setTimeout(r, 100));
  }
  const expected = clients.length * WRITES * (PER_SPACE - 1);
  const deadline = performance.now() + 180_000;
  while (delivered < expected && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  for (const c of clients) {
    c.adapter.stopped = true;
    (c.adapter as { retryInterval: number }).retryInterval = 0;
    await c.repo.shutdown().catch(() => {});
  }
  return { clients: clients.length, delivered, expected, rate: delivered / seconds, latencies };
}

const weft = await load(
  spaces.map((s) => ({ url: s.url, clientUrl: (j) => `${url}?token=${encodeURIComponent(s.tokens[j])}` })),
);

// Baseline: the stock automerge-repo sync server, same clients, same writes.
const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
await new Promise((r) => wss.once("listening", r));
const plainServer = new Repo({ network: [new WebSocketServerAdapter(wss as never)] });
await plainServer.storageId();
const plainUrl = `ws://127.0.0.1:${(wss.address() as { port: number }).port}`;
const plainDocs = spaces.map(() => ({ url: plainServer.create<Doc>({}).url as string, clientUrl: () => plainUrl }));
const plain = await load(plainDocs);

report({
  bench: BENCH,
  metric: "clients-connected",
  value: weft.clients,
  unit: "clients",
  note: `${SPACES} spaces; ${retriedFinds} finds retried after "unavailable"`,
});
report({
  bench: BENCH,
  metric: "deliveries-per-second",
  value: weft.rate,
  unit: "msg/s",
  baseline: plain.rate,
  note: `${weft.delivered}/${weft.expected} delivered; baseline: stock automerge-repo server`,
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
process.exit(0);
