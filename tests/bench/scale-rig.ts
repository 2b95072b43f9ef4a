/**
 * A simulated network for the scale model: Weft's own sync sessions between
 * in-process nodes over links with a one-way latency and a loss rate, and a
 * count of every frame and byte each link carries.
 *
 * Sessions run over reliable ordered streams (TCP, yamux, WebSockets), so a
 * lost packet is not a lost frame: it is retransmitted after a timeout and
 * everything behind it waits (head-of-line blocking). That is what the link
 * models: a frame is "lost" with probability `loss` and then arrives one
 * retransmission timeout late, and no frame overtakes an earlier one.
 */
import { decode } from "cborg";
import { type SessionAdapterOptions, SessionNetworkAdapter } from "../../protocol/sync/session-adapter.ts";
import type { SyncSession } from "../../protocol/sync/session.ts";

export interface LinkShape {
  /** One-way delay, ms. */
  latencyMs: number;
  /** Probability that a frame's first transmission is lost. */
  loss: number;
  /** Extra delay of a lost frame: the retransmission timeout, ms. */
  rtoMs: number;
}

/** What every link carried, by frame type. */
export class Traffic {
  bytes = 0;
  frames = 0;
  readonly byType = new Map<string, { frames: number; bytes: number }>();

  count(frame: Uint8Array): void {
    this.bytes += frame.length;
    this.frames++;
    const type = frameType(frame);
    const t = this.byType.get(type) ?? { frames: 0, bytes: 0 };
    t.frames++;
    t.bytes += frame.length;
    this.byType.set(type, t);
  }

  snapshot(): { bytes: number; frames: number; byType: Record<string, { frames: number; bytes: number }> } {
    return {
      bytes: this.bytes,
      frames: this.frames,
      byType: Object.fromEntries([...this.byType].map(([k, v]) => [k, { ...v }])),
    };
  }
}

/** The frame's type tag, whatever the wire calls the field. */
function frameType(frame: Uint8Array): string {
  try {
    const f = decode(frame, { useMaps: false }) as Record<string, unknown>;
    return String(f.t ?? f.type ?? "?");
  } catch {
    return "?";
  }
}

/** A transport whose links are simulated; link two with `simLink`. */
export class SimNetworkAdapter extends SessionNetworkAdapter {
  #started = false;
  readonly #queued: (() => void)[] = [];

  constructor(options: SessionAdapterOptions) {
    super(options);
  }

  protected start(): void {
    this.#started = true;
    for (const open of this.#queued.splice(0)) open();
    this.markReady();
  }

  protected stop(): void {}

  /** Open this side of a link once the adapter runs; `deliver` carries frames to the other side. */
  end(deliver: (frame: Uint8Array | null) => void, ready: (session: SyncSession) => void): void {
    const open = () =>
      ready(this.openSession({
        send: (frame) => deliver(frame),
        close: () => deliver(null),
      }));
    if (this.#started) open();
    else this.#queued.push(open);
  }
}

/** One direction of a link: in order, each frame after the latency (plus a timeout when "lost"). */
function pipe(shape: LinkShape, traffic: Traffic, random: () => number) {
  let to: SyncSession | undefined;
  const early: (Uint8Array | null)[] = [];
  let lastAt = 0;
  const arrive = (frame: Uint8Array | null) => {
    if (!to) return void early.push(frame);
    if (frame === null) to.close();
    else void to.receive(frame);
  };
  return {
    send(frame: Uint8Array | null) {
      if (frame !== null) traffic.count(frame);
      const lost = frame !== null && random() < shape.loss;
      const at = Math.max(lastAt, performance.now() + shape.latencyMs + (lost ? shape.rtoMs : 0));
      lastAt = at;
      const wait = Math.max(0, at - performance.now());
      if (wait <= 0) queueMicrotask(() => arrive(frame));
      else setTimeout(() => arrive(frame), wait);
    },
    attach(session: SyncSession) {
      to = session;
      for (const f of early.splice(0)) arrive(f);
    },
  };
}

/** Link two nodes' simulated adapters, both ways. */
export function simLink(
  a: SimNetworkAdapter,
  b: SimNetworkAdapter,
  shape: LinkShape,
  traffic: Traffic,
  random: () => number,
): void {
  const ab = pipe(shape, traffic, random);
  const ba = pipe(shape, traffic, random);
  a.end((f) => ab.send(f), (s) => ba.attach(s));
  b.end((f) => ba.send(f), (s) => ab.attach(s));
}

/** A small deterministic PRNG (mulberry32), so a topology and its losses repeat from a seed. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A connected sparse topology: a ring plus random chords, each node with about `degree` links. */
export function topology(n: number, degree: number, random: () => number): [number, number][] {
  const edges = new Set<string>();
  const add = (i: number, j: number) => {
    if (i !== j) edges.add(i < j ? `${i}-${j}` : `${j}-${i}`);
  };
  for (let i = 0; i < n; i++) add(i, (i + 1) % n);
  const target = Math.min((n * (n - 1)) / 2, Math.round((n * degree) / 2));
  while (edges.size < target) add(Math.floor(random() * n), Math.floor(random() * n));
  return [...edges].map((e) => e.split("-").map(Number) as [number, number]);
}
