/**
 * What the relay benchmarks and the relay load test share: the relay
 * process as deployed (peer/relay/node.ts), spaces brought to it by a
 * member each who then leaves, single-use sync tokens for stock clients,
 * and load generators in fresh processes of their own — the stock clients
 * (relay-clients.ts) and the hostile sockets (hostile-sockets.ts).
 */
import { type ChildProcess, fork, spawn } from "node:child_process";
import { save } from "@automerge/automerge";
import type { AutomergeUrl } from "@automerge/automerge-repo";
import { once } from "node:events";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";
import { nativeSigner } from "../../peer/crypto/native-signer.ts";
import { nativeVerifier } from "../../peer/crypto/native-verifier.ts";
import { MAX_QUERY_TTL_SECONDS, requestArgs } from "../../peer/api/request.ts";
import { createNode } from "../../protocol/node/node.ts";
import { generateSeed, type Signer } from "../../protocol/identity/ed25519.ts";
import type { Delegation } from "../../protocol/ucan/delegation.ts";
import { WebSocketNetworkAdapter } from "../../protocol/sync/websocket-adapter.ts";
import { invoke } from "../../protocol/ucan/invocation.ts";
import { Commands } from "../../protocol/ucan/commands.ts";
import { encodeContainer } from "../../protocol/ucan/container.ts";
import { eventually, memoryKeystore } from "../helpers/nodes.ts";
import type { ClientsJob, ClientsResult, ConnectedNote, UrlRequest } from "./relay-clients.ts";
import { DEFAULT_ADMISSION } from "../../peer/http/ws-admission.ts";
import { WebSocket } from "ws";

/**
 * Node flags for the server processes (relay and stock alike), e.g.
 * `WEFT_BENCH_SERVER_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof"` to profile both sides of a run.
 */
const { WEFT_BENCH_SERVER_FLAGS: flags, ...serverEnv } = process.env;
const SERVER_FLAGS = (flags ?? "").split(" ").filter(Boolean);

/** A server process and what it printed; resolves once `ready` matches its output. */
export async function startServer(args: string[], env: Record<string, string>, ready: RegExp) {
  const child = spawn(process.execPath, [...SERVER_FLAGS, ...args], {
    // The rig's own setting is not the server's (the relay refuses WEFT_* settings it does not know).
    env: { ...serverEnv, ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  // However the run ends, the server does not outlive it.
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

export async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await exited;
}

/** CPU time a process has used so far (Linux: user + system), in seconds; NaN where /proc is not there. */
export async function cpuSeconds(child: ChildProcess): Promise<number> {
  const stat = await readFile(`/proc/${child.pid}/stat`, "utf8").catch(() => "");
  // Fields after the command (which may hold spaces): state is field 3, utime 14 and stime 15, in clock ticks.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return fields.length > 13 ? (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS : NaN;
}

/** Linux's USER_HZ, the unit of /proc/<pid>/stat's times, is 100 on every architecture Node runs on. */
const CLOCK_TICKS = 100;

/** Peak resident memory of a process (Linux), in MB; NaN where /proc is not there. */
export async function peakRssMb(child: ChildProcess): Promise<number> {
  const status = await readFile(`/proc/${child.pid}/status`, "utf8").catch(() => "");
  const kb = /VmHWM:\s+(\d+)/.exec(status);
  return kb ? Number(kb[1]) / 1024 : NaN;
}

/**
 * Clients connecting at once over all of a run's processes, as a crowd
 * arriving would. They all come from one address here, and a relay decides
 * at most `perAddress` upgrades from one address at a time (refusing more
 * with 503, which ends a stock client on Node), so the crowd stays under
 * that, as the hostile sockets do.
 */
const CONNECT_CONCURRENCY = DEFAULT_ADMISSION.perAddress - 4;

/**
 * Clients per load process: 500 stock clients in one process kept it
 * overloaded (the server idled 29–54% of the writes, and clients went over
 * 30 s without answering, so both servers dropped them), so a load is
 * spread over fresh processes of about this many clients, whole spaces each.
 */
const CLIENTS_PER_PROCESS = 100;

/** What the job's processes measured, as one load's result. */
function merged(parts: ClientsResult[]): ClientsResult & { rate: number } {
  const all = <T>(pick: (r: ClientsResult) => T[]) => parts.flatMap(pick);
  const sum = (pick: (r: ClientsResult) => number) => parts.reduce((n, r) => n + pick(r), 0);
  const closes: Record<string, number> = {};
  for (const r of parts) for (const [why, n] of Object.entries(r.closes)) closes[why] = (closes[why] ?? 0) + n;
  const writeStart = Math.min(...parts.map((r) => r.writeStart));
  const writeEnd = Math.max(...parts.map((r) => r.writeEnd));
  const delivered = sum((r) => r.delivered);
  return {
    clients: sum((r) => r.clients),
    stalls: all((r) => r.stalls),
    failures: all((r) => r.failures),
    starved: all((r) => r.starved),
    connectSeconds: Math.max(...parts.map((r) => r.connectSeconds)),
    connectTimes: all((r) => r.connectTimes).sort((a, b) => a - b),
    delivered,
    expected: sum((r) => r.expected),
    failedWrites: sum((r) => r.failedWrites),
    writeStart,
    writeEnd,
    writeCpuMs: sum((r) => r.writeCpuMs),
    latencies: all((r) => r.latencies).sort((a, b) => a - b),
    reconnects: sum((r) => r.reconnects),
    closes,
    frames: {
      in: sum((r) => r.frames.in),
      out: sum((r) => r.frames.out),
      bytesIn: sum((r) => r.frames.bytesIn),
    },
    /** Deliveries per second, from the first process's first write to the last process's last delivery. */
    rate: delivered / ((writeEnd - writeStart) / 1000),
  };
}

/**
 * Run one load in fresh client processes (whole spaces each, about
 * CLIENTS_PER_PROCESS clients per process); `mint(doc)` answers their
 * requests for token URLs; `connected` is called once every client has
 * found its document (or failed to), and then all start writing together.
 * `stopWriting()` ends their writes early (a background load whose purpose is served).
 */
export function runClients(
  job: Omit<ClientsJob, "firstDoc" | "connectConcurrency">,
  mint?: (doc: number) => Promise<string>,
  connected?: () => void,
): { result: Promise<ClientsResult & { rate: number }>; stopWriting(): void } {
  const spacesEach = Math.max(1, Math.floor(CLIENTS_PER_PROCESS / job.perSpace));
  const chunks = Array.from(
    { length: Math.max(1, Math.ceil(job.docs.length / spacesEach)) },
    (_, i) => i * spacesEach,
  );
  const connectConcurrency = Math.max(1, Math.floor(CONNECT_CONCURRENCY / chunks.length));
  const children = chunks.map(() =>
    fork(new URL("./relay-clients.ts", import.meta.url).pathname, { stdio: "inherit" })
  );
  process.once("exit", () => children.forEach((c) => c.kill("SIGTERM")));
  let waiting = children.length;
  const results = children.map((child, i) =>
    new Promise<ClientsResult>((resolve, reject) => {
      child.on("message", (m: UrlRequest | ConnectedNote | { result: ClientsResult }) => {
        if ("result" in m) return resolve(m.result);
        if ("connected" in m) {
          if (--waiting > 0) return;
          connected?.();
          for (const c of children) c.send({ write: true });
          return;
        }
        void mint!(m.doc).then((url) => child.send({ id: m.id, url }));
      });
      child.once("exit", (code) => reject(new Error(`a clients' process exited with ${code}`)));
      const firstDoc = chunks[i];
      child.send({ ...job, docs: job.docs.slice(firstDoc, firstDoc + spacesEach), firstDoc, connectConcurrency });
    })
  );
  return {
    result: Promise.all(results).then(merged),
    stopWriting: () => children.forEach((c) => void (c.connected && c.send({ stop: true }))),
  };
}

/** How often the probe pings the server, at most (one ping at a time). */
const PROBE_EVERY_MS = 100;

/**
 * How long a server takes to answer while the clients write: a socket of
 * its own, opened by the bench's (mostly idle) process, pings the server one
 * ping at a time. A server answers a WebSocket ping as soon as it reads it,
 * so the delay is how long its event loop went without reading its sockets
 * (a new client's join, or /healthz, waits as long). `start()` begins the
 * pings; `stop()` ends them and gives each answer's delay in ms, a ping still
 * unanswered counted as waiting until then. A probe whose socket closed or
 * failed first measured nothing after it: `stop()` throws rather than report
 * that as the server's silence.
 */
export async function pingProbe(url: string): Promise<{ start(): void; stop(): number[] }> {
  const ws = new WebSocket(url);
  await once(ws, "open");
  const delays: number[] = [];
  let stopped = false;
  let pending: number | undefined;
  let lost: string | undefined;
  ws.once("close", (code) => void (lost ??= `closed (${code})`));
  ws.on("error", (e) => void (lost ??= `failed (${e.message})`));
  const pings = async () => {
    while (!stopped && lost === undefined) {
      const sent = pending = performance.now();
      ws.ping();
      await once(ws, "pong");
      pending = undefined;
      delays.push(performance.now() - sent);
      await new Promise((r) => setTimeout(r, Math.max(0, sent + PROBE_EVERY_MS - performance.now())));
    }
  };
  return {
    start: () => void pings().catch(() => {}), // an error ends the pings; `lost` says why, and stop() reports it
    stop: () => {
      stopped = true;
      if (lost !== undefined) throw new Error(`the ping probe's socket ${lost} before the run ended`);
      if (pending !== undefined) delays.push(performance.now() - pending);
      ws.terminate();
      return delays;
    },
  };
}

/** Hostile sockets against `url` in a process of their own, until `stop()`; resolves once all are attacking. */
export async function startHostile(url: string, count: number): Promise<{ stop(): Promise<void> }> {
  const child = fork(new URL("./hostile-sockets.ts", import.meta.url).pathname, [url, String(count)], {
    stdio: "inherit",
  });
  process.once("exit", () => child.kill("SIGTERM"));
  await new Promise<void>((resolve, reject) => {
    child.once("message", () => resolve());
    child.once("exit", (code) => reject(new Error(`the hostile sockets' process exited with ${code}`)));
  });
  return { stop: () => stopServer(child) };
}

export interface RelayProcess {
  child: ChildProcess;
  did: string;
  /** The sync endpoint, ws://…/v1/sync. */
  url: string;
}

/** The relay as deployed on Node, with its data under `home`. */
export async function startRelay(home: string): Promise<RelayProcess> {
  const relay = await startServer(
    [new URL("../../peer/relay/node.ts", import.meta.url).pathname],
    { WEFT_HOME: join(home, "relay"), WEFT_HTTP_HOST: "127.0.0.1", WEFT_HTTP_PORT: "0", WEFT_LOG_LEVEL: "warn" },
    /Weft relay (did:key:\S+)\n\s+sync\s+(ws:\S+)\n/,
  );
  return { child: relay.child, did: relay.match[1], url: relay.match[2] };
}

/** A space on the relay, and what its (departed) creator keeps to issue tokens for it. */
export interface HostedSpace {
  signer: Signer;
  space: string;
  url: string;
  chain: Delegation[];
  /** The space document as its creator left it (Automerge.save): the baseline serves the same content. */
  saved: Uint8Array;
}

/** `count` spaces, each brought to the relay by its creator, who then leaves it there. */
export async function hostSpaces(relay: Pick<RelayProcess, "url">, count: number): Promise<HostedSpace[]> {
  const info = relay.url.replace(/^ws:/, "http:").replace(/\/v1\/sync$/, "/v1/node");
  const hosted: HostedSpace[] = [];
  for (let i = 0; i < count; i++) {
    const node = await createNode({
      signer: nativeSigner(generateSeed()),
      verifier: nativeVerifier(),
      keystore: memoryKeystore(),
    });
    node.addNetwork((o) => new WebSocketNetworkAdapter(o)).connectTo(relay.url, { carrier: true });
    const space = await node.createSpace(`space ${i}`);
    const chain = space.authority.chainsFor(node.did, Commands.spaceSync, Math.floor(Date.now() / 1000))[0];
    const saved = save((await node.repo.find(space.url as AutomergeUrl)).doc());
    hosted.push({ signer: node.signer, space: space.id, url: space.url, chain, saved });
    await eventually(
      async () => ((await (await fetch(info)).json()) as { spaces: string[] }).spaces.includes(space.id),
      30_000,
      `space ${i} on the relay`,
    );
    await node.stop();
  }
  return hosted;
}

/**
 * A fresh single-use sync token URL for one stock client of `space`, living
 * as long as the relay allows (its socket is closed when it lapses: a slow
 * run must not lose clients to that).
 */
export async function tokenUrl(relay: Pick<RelayProcess, "url" | "did">, space: HostedSpace): Promise<string> {
  const inv = await invoke({
    issuer: space.signer,
    audience: relay.did,
    subject: space.space,
    command: Commands.spaceSync,
    args: requestArgs("GET", "/v1/sync"),
    proofs: space.chain,
    expiration: Math.floor(Date.now() / 1000) + MAX_QUERY_TTL_SECONDS,
  });
  const token = await encodeContainer([inv.bytes, ...space.chain.map((d) => d.bytes)], "C") as string;
  return `${relay.url}?token=${encodeURIComponent(token)}`;
}
