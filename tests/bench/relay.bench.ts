/**
 * Relay load: 500 WebSocket clients (stock automerge-repo clients with
 * membership tokens) in 50 spaces, all through one relay process — the real
 * entry point, `peer/relay/node.ts`, with its durable storage. A member per
 * space brings the space to the relay and then leaves, keeping only its key
 * and chain to issue the clients' tokens (so that the client process does
 * the same work in both runs). Each client writes a stream of small changes
 * to its space document; every other client in the space receives them.
 * Reports the time to connect, deliveries per second and the p50/p95
 * write-to-delivery latency, against the stock automerge-repo WebSocket
 * server (nodefs storage, no membership checks) run the same way, with the
 * same clients and writes, in the same run. Each server runs in a process
 * of its own, and each run's clients in a fresh one (relay-clients.ts):
 * clients sharing one process across both runs made whichever ran second
 * look nearly twice as fast.
 */
import { type ChildProcess, fork, spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
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
import type { ClientsJob, ClientsResult, UrlRequest } from "./relay-clients.ts";

const BENCH = "relay";
const SPACES = Number(process.env.WEFT_BENCH_SPACES ?? 50);
const PER_SPACE = Number(process.env.WEFT_BENCH_CLIENTS_PER_SPACE ?? 10);

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

/** Run one load in a fresh client process; `mint(doc)` answers its requests for token URLs. */
function runClients(job: ClientsJob, mint?: (doc: number) => Promise<string>): Promise<ClientsResult> {
  const child = fork(new URL("./relay-clients.ts", import.meta.url).pathname, { stdio: "inherit" });
  process.once("exit", () => child.kill("SIGTERM"));
  return new Promise((resolve, reject) => {
    child.on("message", (m: UrlRequest | { result: ClientsResult }) => {
      if ("result" in m) return resolve(m.result);
      void mint!(m.doc).then((url) => child.send({ id: m.id, url }));
    });
    child.once("exit", (code) => reject(new Error(`the clients' process exited with ${code}`)));
    child.send(job);
  });
}

async function stopServer(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await exited;
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

const weft = await runClients(
  { docs: issuers.map((x) => x.url), perSpace: PER_SPACE, server: "token" },
  relayClientUrl,
);
const relayRss = await peakRssMb(relay.child);
await stopServer(relay.child);

// Baseline: the stock automerge-repo sync server, same clients, same writes.
const stock = await startServer(
  [new URL("./stock-sync-server.ts", import.meta.url).pathname, join(home, "stock")],
  {},
  /port (\d+)\n/,
);
const stockUrl = `ws://127.0.0.1:${stock.match[1]}`;
stock.child.stdin!.write(`create ${SPACES}\n`);
while (!/docs .+\n/.test(stock.output())) await new Promise((r) => setTimeout(r, 20));
const stockDocs = /docs (.+)\n/.exec(stock.output())![1].split(" ");
const plain = await runClients({ docs: stockDocs, perSpace: PER_SPACE, server: stockUrl });
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
  note: `${SPACES} spaces; finds retried ${weft.retries}, sockets reconnected ${weft.reconnects} ` +
    `(baseline ${plain.retries}, ${plain.reconnects})`,
});
report({
  bench: BENCH,
  metric: "connect-all",
  value: weft.connectSeconds,
  unit: "s",
  baseline: plain.connectSeconds,
  note: `25 connecting at once, each with its own token; ${baselineNote}`,
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
