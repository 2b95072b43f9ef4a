/**
 * The relay benchmark's clients: stock automerge-repo clients (published
 * packages only) run in processes of their own, forked fresh for each run
 * so that neither the relay's run nor the baseline's inherits a load
 * generator the other one warmed up. One process holds some of the spaces
 * (all the clients of each, so a write and its deliveries are timed on one
 * clock); the parent runs several side by side (relay-rig.ts), so that the
 * server paces the run, not one overloaded client process. The parent sends
 * the documents and the server; for a relay, each connection asks the
 * parent for a fresh single-use token URL. Each client finds its document
 * once — no retries: a find that fails is reported as a failure — then,
 * once the parent says every process has connected, writes. The result goes
 * back as one message.
 */
import process from "node:process";
import { type AutomergeUrl, type DocHandle, Repo } from "@automerge/automerge-repo";
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket";

/** What the parent asks for. `server` is the URL every client uses, or "token" to ask for one per connection. */
export interface ClientsJob {
  docs: string[];
  /** The index of `docs[0]` among all the run's documents (what token requests name). */
  firstDoc: number;
  /** Clients of this process connecting at once (the run's processes share the relay's per-address bound). */
  connectConcurrency: number;
  perSpace: number;
  server: string;
  /** Rounds of changes (one per client, 100 ms apart) written after finding the documents, or until told to stop. */
  writes: number;
  /** How long to wait for every write to reach every other client (0: not at all, a load only). */
  deliveryTimeoutMs: number;
}

/** A request for a connection URL (with a fresh token) for document `doc`, answered with `{ id, url }`. */
export interface UrlRequest {
  id: number;
  doc: number;
}

/** Sent once every client has found its document (or failed to); the writes wait for the parent's `{ write }`. */
export interface ConnectedNote {
  connected: number;
}

export type ClientsResult = Awaited<ReturnType<typeof load>> & { reconnects: number; closes: Record<string, number> };

/** A spare reconnect URL older than this is not used: its token may have lapsed (they live 10 minutes). */
const SPARE_MAX_AGE_MS = 60_000;

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
  /** A URL minted ahead for the next reconnect, and when (a token outlives a slow run's minutes only so long). */
  #spare?: { url: string; at: number };
  readonly #urls: () => Promise<string>;
  /** When it first connected (performance.now()), and what happened since (ms after): to say why a find failed. */
  readonly since = performance.now();
  readonly #events: string[] = [];

  constructor(first: string, urls: () => Promise<string>) {
    super(first);
    this.#urls = urls;
    // The stock adapter rethrows any socket error but ECONNREFUSED (a reset under load, say), which would end
    // the whole clients' process: noted instead, so it counts against that client (its find fails) alone.
    const stock = this.onError;
    this.onError = (event) => {
      try {
        stock(event);
      } catch (e) {
        this.#note(`error (${(e as Error).message})`);
      }
    };
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
      if (spare === undefined || performance.now() - spare.at > SPARE_MAX_AGE_MS) {
        void this.#urls().then((u) => {
          this.#use(u);
          if (this.stopped) return;
          super.connect(...args);
          this.#watch();
          this.#mint();
        }, () => {});
        return;
      }
      this.#use(spare.url);
    }
    super.connect(...args);
    this.#watch();
    this.#mint();
  }

  override send(...args: Parameters<WebSocketClientAdapter["send"]>): void {
    if (counting) frames.out++;
    super.send(...args);
  }

  /** Note the current socket's open, refusal or failure, count why it closed and, while writing, what it received. */
  #watch(): void {
    this.#note("connect");
    this.socket?.addEventListener("message", (e) => {
      if (!counting) return;
      frames.in++;
      frames.bytesIn += (e.data as { byteLength?: number }).byteLength ?? 0;
    });
    this.socket?.addEventListener("open", () => this.#note("open"));
    this.socket?.addEventListener("close", (e) => {
      if (this.stopped) return;
      const why = `${e.code}${e.reason ? ` ${e.reason}` : ""}`;
      closes[why] = (closes[why] ?? 0) + 1;
    });
    this.socket?.addEventListener("error", (e) => this.#note(`error (${(e as { message?: string }).message})`));
  }

  #note(what: string): void {
    this.#events.push(`${what} ${Math.round(performance.now() - this.since)} ms`);
  }

  override peerCandidate(...args: Parameters<WebSocketClientAdapter["peerCandidate"]>): void {
    this.#note("server answered join");
    super.peerCandidate(...args);
  }

  /** What happened to this client's sockets, in order. */
  get timeline(): string {
    return this.#events.join(", ");
  }

  /** The stock adapter reads `url` at each connect; its type only calls it read-only. */
  #use(url: string): void {
    (this as { url: string }).url = url;
  }

  #mint(): void {
    void this.#urls().then((url) => void (this.#spare = { url, at: performance.now() }), () => {});
  }

  /** Closing a socket that never opened makes ws emit "error", which the stock client no longer listens for. */
  override disconnect(): void {
    this.socket?.addEventListener("error", () => {});
    super.disconnect();
  }
}

/** Reconnections the stock client made by itself. */
let reconnects = 0;
/** Whether the writes have begun: frames are counted from then on. */
let counting = false;
/** Frames this process's clients received from the server and sent to it while writing, and the bytes received. */
const frames = { in: 0, out: 0, bytesIn: 0 };
/** Sockets that closed while the run went on, by close code and reason: why the clients reconnected. */
const closes: Record<string, number> = {};

/** Connect a client and find its document, once. */
async function connectClient(wsUrl: () => Promise<string>, url: AutomergeUrl) {
  const adapter = new Client(await wsUrl(), wsUrl);
  const repo = new Repo({ network: [adapter] });
  try {
    return { adapter, repo, handle: await repo.find<Doc>(url, { signal: AbortSignal.timeout(60_000) }) };
  } catch (e) {
    adapter.stopped = true;
    await repo.shutdown().catch(() => {});
    throw Object.assign(new Error(`${(e as Error).message}: ${adapter.timeline}`), { since: adapter.since });
  }
}

/** A pause of this process's event loop worth reporting: past it, the stock client's one second is at risk. */
const STALL_MS = 500;
/** The stock client's deadline: from connecting, how long it waits for the server to answer its join. */
const JOIN_DEADLINE_MS = 1_000;

/** A pause of this process's event loop: when (performance.now()), and the CPU it used meanwhile. */
interface Stall {
  start: number;
  end: number;
  cpuMs: number;
}

/**
 * Pauses of this process's event loop longer than STALL_MS, with the CPU it
 * used meanwhile: a pause in which it used little CPU is time the machine
 * did not run it (other processes had the cores), not work of its own.
 * The stock client's one-second deadline runs on the wall clock either way.
 */
function watchStalls(): { seen: Stall[]; stop(): void } {
  const seen: Stall[] = [];
  let last = performance.now();
  let cpu = process.cpuUsage();
  const timer = setInterval(() => {
    const now = performance.now();
    const used = process.cpuUsage(cpu);
    if (now - last > STALL_MS) seen.push({ start: last, end: now, cpuMs: (used.user + used.system) / 1000 });
    last = now;
    cpu = process.cpuUsage();
  }, 50);
  return { seen, stop: () => clearInterval(timer) };
}

/**
 * Whether a client that connected at `from` lost its second to the machine:
 * this process was not run (a pause of over STALL_MS using under half of it
 * in CPU) during the second the stock client gives the server to answer.
 * No server can answer a client whose process is not running.
 */
function starved(from: number, stalls: Stall[]): boolean {
  return stalls.some((s) => s.start < from + JOIN_DEADLINE_MS && s.end > from && s.cpuMs < (s.end - s.start) / 2);
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

/** The time on a clock every process of the run shares (Unix ms, sub-millisecond). */
const sharedNow = () => performance.timeOrigin + performance.now();

/**
 * Connect `perSpace` clients per document, `concurrency` at once; once told
 * to (`go`), have each write `writes` changes, measure deliveries.
 */
async function load(
  docs: Array<{ url: string; clientUrl: () => Promise<string> }>,
  perSpace: number,
  writes: number,
  deliveryTimeoutMs: number,
  concurrency: number,
) {
  const latencies: number[] = [];
  const connectTimes: number[] = [];
  const failures: string[] = [];
  /** The failed clients' messages and when each connected, to tell which lost their second to the machine. */
  const failed: Array<{ message: string; from: number }> = [];
  let delivered = 0;
  let failedWrites = 0;
  const slots = docs.flatMap((doc, s) => Array.from({ length: perSpace }, (_, j) => ({ doc, s, id: `c${s}x${j}` })));
  const connectStart = performance.now();
  const stalls = watchStalls();
  const connected = await pool(slots, concurrency, async ({ doc, s, id }) => {
    const t0 = performance.now();
    let found;
    try {
      found = await connectClient(doc.clientUrl, doc.url as AutomergeUrl);
    } catch (e) {
      failures.push((e as Error).message);
      failed.push({ message: (e as Error).message, from: (e as { since?: number }).since ?? t0 });
      return undefined;
    }
    connectTimes.push(performance.now() - t0);
    const { adapter, repo, handle } = found;
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
    return { repo, adapter, handle: handle as DocHandle<Doc>, id, s };
  });
  const clients = connected.filter((c) => c !== undefined);
  const connectSeconds = (performance.now() - connectStart) / 1000;
  stalls.stop();
  process.send!({ connected: clients.length } satisfies ConnectedNote);
  await go;
  counting = true;
  const start = sharedNow();
  const cpu0 = process.cpuUsage();
  let rounds = 0;
  for (let w = 0; w < writes && !stopWriting; w++, rounds++) {
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
  // Every client receives every write of the others in its space.
  const inSpace = new Map<number, number>();
  for (const c of clients) inSpace.set(c.s, (inSpace.get(c.s) ?? 0) + 1);
  const expected = [...inSpace.values()].reduce((sum, k) => sum + k * (k - 1) * rounds, 0);
  const deadline = performance.now() + deliveryTimeoutMs;
  while (delivered < expected && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const end = sharedNow();
  const cpu = process.cpuUsage(cpu0);
  counting = false;
  latencies.sort((a, b) => a - b);
  connectTimes.sort((a, b) => a - b);
  for (const c of clients) {
    c.adapter.stopped = true;
    (c.adapter as { retryInterval: number }).retryInterval = 0;
    await c.repo.shutdown().catch(() => {});
  }
  return {
    clients: clients.length,
    stalls: stalls.seen.map((x) => `${Math.round(x.end - x.start)} ms (${Math.round(x.cpuMs)} ms of CPU)`),
    failures,
    /** The failures whose client's process was not run during its second (see `starved`): the machine's. */
    starved: failed.filter((f) => starved(f.from, stalls.seen)).map((f) => f.message),
    connectSeconds,
    connectTimes,
    delivered,
    expected,
    failedWrites,
    /** When this process began writing and saw its last delivery (or gave up), on the shared clock. */
    writeStart: start,
    writeEnd: end,
    /** This process's CPU (user + system, ms) from its first write to its last delivery. */
    writeCpuMs: (cpu.user + cpu.system) / 1000,
    latencies,
    /** The server's frames to the clients and theirs to it while writing, and the bytes to them. */
    frames: { ...frames },
  };
}

/** Settles when the parent says every process has connected: the writes start together. */
let startWriting!: () => void;
const go = new Promise<void>((r) => (startWriting = r));

/** Set when the parent says stop writing (a background load whose purpose is served). */
let stopWriting = false;

const waiting = new Map<number, (url: string) => void>();
let nextRequest = 0;

/** A fresh connection URL for document `doc`, from the parent. */
function tokenUrl(doc: number): Promise<string> {
  const id = nextRequest++;
  return new Promise((resolve) => {
    waiting.set(id, resolve);
    process.send!({ id, doc } satisfies UrlRequest);
  });
}

process.on("message", (m: ClientsJob | { id: number; url: string } | { stop: true } | { write: true }) => {
  if ("stop" in m) {
    stopWriting = true;
    return;
  }
  if ("write" in m) return startWriting();
  if ("url" in m) {
    waiting.get(m.id)?.(m.url);
    waiting.delete(m.id);
    return;
  }
  const docs = m.docs.map((url, i) => ({
    url,
    clientUrl: m.server === "token" ? () => tokenUrl(m.firstDoc + i) : () => Promise.resolve(m.server),
  }));
  void load(docs, m.perSpace, m.writes, m.deliveryTimeoutMs, m.connectConcurrency).then((result) => {
    process.send!({ result: { ...result, reconnects, closes } }, () => process.exit(0));
  });
});
