/**
 * One authenticated sync session with one remote, over any framed link.
 *
 * Both sides send `hello` with a fresh 32-byte nonce, then `auth` with a
 * proof per space, each an invocation of /weft/space/sync whose args name
 * the remote's nonce and DID. A proof names its space, the space document
 * and the chain of members that delegated it, so the side that did not
 * choose the remote (it accepted the connection: `withhold`) sends its
 * proofs only once the remote's have been checked, and only for the spaces
 * the remote proved: a stranger that connects learns nothing of a space.
 * Only after the remote's `auth` is checked is the remote announced to
 * automerge-repo, and from then on every message in either direction is
 * let through only for documents of spaces the remote proved it may sync.
 * Everything else is dropped and counted.
 * Each side answers `auth` with `authz`, the spaces it accepted, so a node
 * that just joined a space knows when a peer will serve it. Each `auth`
 * carries all of the sender's proofs and replaces the previous ones. When a
 * space or its revocations change, the sessions concerned with that space
 * (and only those) re-check the remote's proofs and re-send their own.
 *
 * A session rests on the remote's delegations: it re-checks them when the
 * earliest one lapses, and when a revocation cuts the remote off it first
 * sends it the signed records (`revoked`), so the revoked node learns it
 * and can check it itself, then stops sharing that space with it.
 */
import type { Message } from "@automerge/automerge-repo";
import { isWeftError } from "../errors.ts";
import type { Diagnostics } from "../diagnostics.ts";
import { equalBytes, randomBytes } from "../bytes.ts";
import type { SyncAuthority } from "./sync-authority.ts";
import {
  decodeFrame,
  encodeFrame,
  type Frame,
  type GossipChannel,
  type GossipFrame,
  type HelloFrame,
  type LogFrame,
  type LogsFrame,
  MAX_BLOB_BYTES,
  MAX_REVOCATION_RECORDS,
  type PullFrame,
  type RevokedFrame,
  SyncProtocolError,
  type WantFrame,
  type WireLogLine,
} from "./frames.ts";

/** A bidirectional channel carrying whole frames. */
export interface FrameLink {
  send(frame: Uint8Array): void;
  close(): void;
}

export interface SessionOptions {
  link: FrameLink;
  localDid: string;
  /** This repo's automerge peer id and metadata. */
  localPeer: string;
  localMeta?: { storageId?: string; isEphemeral?: boolean };
  authority: SyncAuthority;
  diagnostics: Diagnostics;
  /** If the transport authenticated the remote (libp2p noise), its DID. */
  expectedRemoteDid?: string;
  /**
   * The remote connected to us (we did not choose it): our proofs wait for
   * its `auth` and name only the spaces it proved. At most one side of a
   * link withholds, so the handshake always completes.
   */
  withhold?: boolean;
  /**
   * The remote is a relay this node chose to use: it carries the spaces it
   * accepts our proofs for, so those spaces' documents are shared with it
   * although it is not a member itself.
   */
  carrier?: boolean;
  /** The remote proved who it is: announce it to the repo. */
  onReady(session: SyncSession): void;
  /**
   * These spaces are now shared both ways: the remote proved it may sync
   * them and accepted our proofs for them, so it serves them to us and takes
   * their gossip. Each space is reported once (again only after it stopped).
   */
  onShared?(session: SyncSession, spaces: readonly string[]): void;
  /** The spaces shared with the remote (`session.spaces`) changed after it was announced. */
  onAccessChanged?(session: SyncSession): void;
  /** A message the gate let through, with senderId set to the remote. */
  onMessage(message: Message): void;
  /** Gossip from the remote, for a space it proved it may sync. */
  onGossip?(session: SyncSession, space: string, channel: GossipChannel, bytes: Uint8Array): void;
  /** The remote asks to be caught up on a space's live gossip (see `pullGossip`); once per space. */
  onPull?(session: SyncSession, space: string): void;
  /**
   * The blobs this node serves to remotes it shares a space with; with
   * `hops` > 0 it may ask its other peers (not `from`) for one it lacks.
   */
  blobs?(cid: string, hops: number, from: SyncSession): Promise<Uint8Array | undefined>;
  /**
   * The log of a run on this node from its start (and, with `follow`, each
   * new line until it ends); undefined if no such run is here.
   */
  logs?(space: string, task: string, follow: boolean, signal: AbortSignal): AsyncIterable<WireLogLine> | undefined;
  onClose(session: SyncSession): void;
}

/** Proofs in one `auth`; more is refused. */
const MAX_REMOTE_PROOFS = 256;
const DOC_MESSAGES = new Set(["sync", "request", "doc-unavailable", "ephemeral", "remote-heads-changed"]);
const PEER_MESSAGES = new Set(["remote-subscription-change"]);
/** Blob requests served at once per session; more are answered "none". */
const MAX_SERVING = 8;
/** The longest a timer can wait; a later lapse is re-checked in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class SyncSession {
  readonly #o: SessionOptions;
  readonly #nonce = randomBytes(32);
  #remote?: HelloFrame;
  #ready = false;
  #closed = false;
  /** Spaces the remote proved it may sync. */
  readonly spaces = new Set<string>();
  /** Spaces the remote accepted our proofs for. */
  readonly accepted = new Set<string>();
  /** The remote's proofs from its latest `auth`, and how many of them did not verify. */
  #proofs: Uint8Array[] = [];
  #rejected = 0;
  /** Spaces the remote's proofs granted at the last check. */
  #verified = new Set<string>();
  /** Re-checks the remote's proofs when the earliest of them lapses. */
  #lapse?: ReturnType<typeof setTimeout>;
  /** Spaces the remote told us we were revoked in (heard once per space). */
  readonly #toldRevoked = new Set<string>();
  /** Spaces our latest `auth` carried proofs for. */
  #offered = new Set<string>();
  /** Spaces shared both ways, as reported to `onShared`. */
  readonly shared = new Set<string>();
  #unsubscribe?: () => void;
  /** Our blob requests waiting for an answer, by request id. */
  readonly #wants = new Map<number, (bytes: Uint8Array | undefined) => void>();
  #nextWant = 0;
  #serving = 0;
  /** Log streams we serve (by the remote's request id) and follow (by ours). */
  readonly #logStreams = new Map<number, AbortController>();
  readonly #following = new Map<number, (frame: LogFrame) => void>();

  constructor(options: SessionOptions) {
    this.#o = options;
  }

  get remoteDid(): string | undefined {
    return this.#remote?.did;
  }

  get remotePeer(): string | undefined {
    return this.#remote?.peer;
  }

  get remoteMeta(): HelloFrame["meta"] {
    return this.#remote?.meta;
  }

  get ready(): boolean {
    return this.#ready;
  }

  start(): void {
    this.#send({
      t: "hello",
      v: 1,
      nonce: this.#nonce,
      did: this.#o.localDid,
      peer: this.#o.localPeer,
      ...(this.#o.localMeta ? { meta: stripUndefined(this.#o.localMeta) } : {}),
    });
    this.#unsubscribe = this.#o.authority.onChange((space) => void this.#reauthorize(space));
  }

  #queue: Promise<void> = Promise.resolve();

  /** Feed one received frame. Frames are handled strictly in order. */
  receive(bytes: Uint8Array): Promise<void> {
    this.#queue = this.#queue.then(() => this.#process(bytes));
    return this.#queue;
  }

  async #process(bytes: Uint8Array): Promise<void> {
    if (this.#closed) return;
    this.#o.diagnostics.count("sync.bytes.in", bytes.length);
    let frame: Frame;
    try {
      frame = decodeFrame(bytes);
    } catch (e) {
      this.#refuse("frame", isWeftError(e) ? e.code : "sync/protocol", (e as Error).message);
      this.close();
      return;
    }
    try {
      if (frame.t === "hello") await this.#onHello(frame);
      else if (!this.#remote) throw new SyncProtocolError(`${frame.t} before hello`);
      else if (frame.t === "auth") await this.#onAuth(frame.proofs);
      else if (frame.t === "authz") this.#onAuthz(frame.spaces);
      else if (!this.#ready) throw new SyncProtocolError(`${frame.t} before auth`);
      else if (frame.t === "gossip") this.#onGossip(frame);
      else if (frame.t === "pull") this.#onPull(frame);
      else if (frame.t === "want") void this.#onWant(frame);
      else if (frame.t === "have") this.#wants.get(frame.i)?.(frame.d);
      else if (frame.t === "logs") this.#onLogs(frame);
      else if (frame.t === "revoked") await this.#onRevoked(frame);
      else if (frame.t === "log") this.#following.get(frame.i)?.(frame);
      else this.#onMsg(frame.m);
    } catch (e) {
      this.#refuse(frame.t, isWeftError(e) ? e.code : "sync/error", (e as Error).message);
      this.close();
    }
  }

  async #onHello(hello: HelloFrame): Promise<void> {
    if (this.#remote) throw new SyncProtocolError("a second hello");
    if (this.#o.expectedRemoteDid !== undefined && hello.did !== this.#o.expectedRemoteDid) {
      throw new SyncProtocolError(`hello claims ${hello.did} but the connection is from ${this.#o.expectedRemoteDid}`);
    }
    this.#remote = hello;
    if (!this.#o.withhold) await this.#sendProofs();
  }

  async #sendProofs(): Promise<void> {
    const remote = this.#remote;
    if (!remote || this.#closed) return;
    let proofs = await this.#o.authority.prove(remote.nonce, remote.did);
    if (this.#o.withhold) proofs = proofs.filter((p) => this.spaces.has(p.space));
    this.#offered = new Set(proofs.map((p) => p.space));
    this.#send({ t: "auth", proofs: proofs.map((p) => p.proof) });
  }

  async #onAuth(proofs: Uint8Array[]): Promise<void> {
    if (proofs.length > MAX_REMOTE_PROOFS) throw new SyncProtocolError("too many space proofs");
    this.#proofs = proofs.filter((p, i) => !proofs.slice(0, i).some((q) => equalBytes(p, q)));
    await this.#checkProofs();
    // Withholding: every auth of the remote's is answered with ours, for the spaces it proved.
    if (this.#o.withhold) await this.#sendProofs();
    if (!this.#ready && !this.#closed) {
      this.#ready = true;
      this.#o.onReady(this);
      this.#noteShared();
    }
  }

  /**
   * Verify every proof the remote sent; the spaces that pass are what it may
   * sync, until the earliest of their chains lapses (checked again then).
   * A space it held before and was revoked in is told to it first.
   */
  async #checkProofs(): Promise<void> {
    const remote = this.#remote as HelloFrame;
    const verified = new Set<string>();
    let rejected = 0;
    let lapsesInMs: number | null = null;
    for (const proof of this.#proofs) {
      try {
        const grant = await this.#o.authority.verify(proof, this.#nonce, this.#o.localDid, remote.did);
        verified.add(grant.space);
        if (grant.lapsesInMs !== null) lapsesInMs = Math.min(lapsesInMs ?? grant.lapsesInMs, grant.lapsesInMs);
      } catch (e) {
        rejected++;
        this.#refuse("auth", isWeftError(e) ? e.code : "sync/auth", (e as Error).message);
      }
    }
    if (this.#closed) return;
    this.#rejected = rejected;
    for (const space of this.#verified) if (!verified.has(space)) this.#tellRevoked(space, remote.did);
    this.#verified = verified;
    this.#scheduleLapse(lapsesInMs);
    this.#setSpaces(this.#o.carrier ? new Set([...verified, ...this.accepted]) : verified);
    this.#send({ t: "authz", spaces: [...verified] });
  }

  #scheduleLapse(inMs: number | null): void {
    if (this.#lapse !== undefined) clearTimeout(this.#lapse);
    this.#lapse = undefined;
    if (inMs === null) return;
    this.#lapse = setTimeout(() => {
      this.#lapse = undefined;
      // A re-check that cannot finish must not leave the lapsed grant standing.
      this.#queue = this.#queue.then(() => (this.#closed ? undefined : this.#checkProofs())).catch(() => this.close());
    }, Math.min(Math.max(inMs, 0), MAX_TIMER_MS));
  }

  /** The remote lost a space: if a revocation did it, send it the records before we stop sharing the space. */
  #tellRevoked(space: string, remoteDid: string): void {
    const records = this.#o.authority.revocationsOf(space, remoteDid).slice(0, MAX_REVOCATION_RECORDS);
    if (records.length > 0) this.#send({ t: "revoked", s: space, r: records });
  }

  /** The remote says we were revoked in a space we offered it: heard once per space, checked by the node. */
  async #onRevoked(frame: RevokedFrame): Promise<void> {
    // Not ours to hear (any more): we stopped offering that space, or were told already.
    if (!this.#offered.has(frame.s) || this.#toldRevoked.has(frame.s)) return;
    this.#toldRevoked.add(frame.s);
    await this.#o.authority.learnRevocations(frame.s, frame.r, (this.#remote as HelloFrame).did);
  }

  #onAuthz(spaces: string[]): void {
    this.accepted.clear();
    for (const s of spaces) this.accepted.add(s);
    if (this.#o.carrier) this.#setSpaces(new Set([...this.spaces, ...spaces]));
    this.#noteShared();
  }

  /** Replace the spaces shared with the remote, telling the node if that changed anything. */
  #setSpaces(next: ReadonlySet<string>): void {
    const changed = next.size !== this.spaces.size || [...next].some((s) => !this.spaces.has(s));
    if (!changed) return;
    this.spaces.clear();
    for (const s of next) this.spaces.add(s);
    if (!this.#ready) return;
    this.#o.onAccessChanged?.(this);
    this.#noteShared();
  }

  #noteShared(): void {
    if (!this.#ready || this.#closed) return;
    for (const s of this.shared) if (!this.spaces.has(s) || !this.accepted.has(s)) this.shared.delete(s);
    const added = [...this.accepted].filter((s) => this.spaces.has(s) && !this.shared.has(s));
    for (const s of added) this.shared.add(s);
    if (added.length > 0) this.#o.onShared?.(this, added);
  }

  /**
   * A space was added or its members or revocations changed: re-check the
   * remote's proofs if that can change what they grant (they include that
   * space, or some did not verify and might now), and send ours again if
   * they are for that space.
   */
  async #reauthorize(space: string): Promise<void> {
    // Our proofs can go out as soon as we know the remote's nonce; its proofs are re-checked once it sent some.
    if (this.#closed || !this.#remote) return;
    if (this.#ready && (this.spaces.has(space) || this.#rejected > 0)) await this.#checkProofs();
    if (this.#offered.has(space) || this.#o.authority.offers(space)) await this.#sendProofs();
  }

  #onGossip(frame: GossipFrame): void {
    if (!this.spaces.has(frame.s)) {
      this.#refuse("gossip", "sync/not-a-member", `not authorized for space ${frame.s}`, frame.s);
      return;
    }
    this.#o.onGossip?.(this, frame.s, frame.c, frame.d);
  }

  /** Catch-ups asked for, by space: answered once each, so a pull cannot be used to amplify. */
  readonly #pulled = new Set<string>();

  #onPull(frame: PullFrame): void {
    if (!this.spaces.has(frame.s)) {
      this.#refuse("pull", "sync/not-a-member", `not authorized for space ${frame.s}`, frame.s);
      return;
    }
    if (this.#pulled.has(frame.s)) return;
    this.#pulled.add(frame.s);
    this.#o.onPull?.(this, frame.s);
  }

  /** Answer a blob request: only for a remote that shares a space with us, and a few at a time. */
  async #onWant(frame: WantFrame): Promise<void> {
    let bytes: Uint8Array | undefined;
    if (this.spaces.size > 0 && this.#serving < MAX_SERVING && this.#o.blobs) {
      this.#serving++;
      try {
        bytes = await this.#o.blobs(frame.cid, frame.h ?? 0, this);
      } catch {
        bytes = undefined;
      } finally {
        this.#serving--;
      }
    } else {
      this.#o.diagnostics.count("sync.blobs.declined");
    }
    if (bytes && bytes.length > MAX_BLOB_BYTES) bytes = undefined;
    this.#send({ t: "have", i: frame.i, ...(bytes ? { d: bytes } : {}) });
    if (bytes) this.#o.diagnostics.count("sync.blobs.served");
  }

  /** Stream a run's log to the remote, if it may see the space and the run is here. */
  #onLogs(frame: LogsFrame): void {
    if (frame.s === undefined) {
      this.#logStreams.get(frame.i)?.abort();
      return;
    }
    const end = (why: string) => this.#send({ t: "log", i: frame.i, e: why });
    if (!this.spaces.has(frame.s)) return end(`not a member of ${frame.s}`);
    if (this.#logStreams.has(frame.i) || this.#logStreams.size >= MAX_SERVING) return end("too many log streams");
    const controller = new AbortController();
    const lines = this.#o.logs?.(frame.s, frame.k as string, frame.f === true, controller.signal);
    if (!lines) return end(`no run of ${frame.k} here`);
    this.#logStreams.set(frame.i, controller);
    void (async () => {
      try {
        for await (const l of lines) {
          this.#send({ t: "log", i: frame.i, l: { stream: l.stream, at: l.at, text: l.text } });
        }
        end("");
      } catch (e) {
        end((e as Error).message);
      } finally {
        this.#logStreams.delete(frame.i);
      }
    })();
  }

  /**
   * A run's log on the remote (the node running it): every line so far and,
   * with `follow`, each new one until the run ends, the link goes, or
   * `signal` aborts. Throws if the remote has no such run or refuses.
   */
  async *runLog(space: string, task: string, follow: boolean, signal?: AbortSignal): AsyncGenerator<WireLogLine> {
    if (this.#closed || !this.#ready) throw new SyncProtocolError("the link to that node is down");
    const id = this.#nextWant++;
    const queue: LogFrame[] = [];
    let wake: (() => void) | undefined;
    const push = (f: LogFrame) => {
      queue.push(f);
      wake?.();
    };
    this.#following.set(id, push);
    const onAbort = () => push({ t: "log", i: id, e: "" });
    signal?.addEventListener("abort", onAbort, { once: true });
    this.#send({ t: "logs", i: id, s: space, k: task, ...(follow ? { f: true } : {}) });
    let ended = false;
    try {
      while (true) {
        while (queue.length > 0) {
          const f = queue.shift() as LogFrame;
          if (f.l) yield f.l;
          if (f.e !== undefined) {
            ended = true;
            if (f.e !== "") throw new SyncProtocolError(f.e);
            return;
          }
        }
        await new Promise<void>((r) => (wake = r));
        wake = undefined;
      }
    } finally {
      this.#following.delete(id);
      signal?.removeEventListener("abort", onAbort);
      if (!ended || signal?.aborted) this.#send({ t: "logs", i: id });
    }
  }

  /** Send gossip to the remote, if it may see the space. */
  sendGossip(space: string, channel: GossipChannel, bytes: Uint8Array): void {
    if (this.#closed || !this.#ready || !this.spaces.has(space)) return;
    this.#send({ t: "gossip", s: space, c: channel, d: bytes });
  }

  /** This node just started gossip for a space the remote shares: ask it for what is live. */
  pullGossip(space: string): void {
    if (this.#closed || !this.shared.has(space)) return;
    this.#send({ t: "pull", s: space });
  }

  /**
   * Ask the remote for a blob (which it may look for `hops` peers further);
   * undefined if it has none, goes away, or `signal` aborts first.
   */
  want(cid: string, signal?: AbortSignal, hops = 0): Promise<Uint8Array | undefined> {
    if (this.#closed || !this.#ready || signal?.aborted) return Promise.resolve(undefined);
    const id = this.#nextWant++;
    return new Promise((resolve) => {
      const done = (bytes: Uint8Array | undefined) => {
        this.#wants.delete(id);
        signal?.removeEventListener("abort", abort);
        resolve(bytes);
      };
      const abort = () => done(undefined);
      this.#wants.set(id, done);
      signal?.addEventListener("abort", abort, { once: true });
      this.#send({ t: "want", i: id, cid, ...(hops > 0 ? { h: hops } : {}) });
    });
  }

  #onMsg(m: Record<string, unknown>): void {
    const remote = this.#remote as HelloFrame;
    const type = m.type;
    if (typeof type !== "string" || !(DOC_MESSAGES.has(type) || PEER_MESSAGES.has(type))) {
      this.#refuse("msg", "sync/unknown-message", `unknown message type ${JSON.stringify(type)?.slice(0, 40)}`);
      return;
    }
    if (DOC_MESSAGES.has(type)) {
      const doc = m.documentId;
      if (typeof doc !== "string") {
        this.#refuse(type, "sync/malformed", "message without a documentId");
        return;
      }
      const space = this.#o.authority.spaceOf(doc);
      if (space === undefined) {
        // Not (yet) known to be a space document here: e.g. announced before we read the genesis.
        this.#o.diagnostics.count("sync.unknown-document");
        return;
      }
      if (!this.spaces.has(space)) {
        this.#refuse(type, "sync/not-a-member", `not authorized for document ${doc}`, space);
        return;
      }
      if ((type === "sync" || type === "request" || type === "ephemeral") && !(m.data instanceof Uint8Array)) {
        this.#refuse(type, "sync/malformed", "message without data");
        return;
      }
    }
    // The remote speaks only for itself, to us.
    this.#o.onMessage({ ...m, senderId: remote.peer, targetId: this.#o.localPeer } as Message);
  }

  /** True if `message` may go to this remote; a refused request is answered locally as unavailable. */
  send(message: Message): void {
    if (this.#closed || !this.#ready) return;
    const doc = message.documentId;
    if (doc !== undefined) {
      const space = this.#o.authority.spaceOf(doc);
      if (space === undefined || !this.spaces.has(space)) {
        this.#o.diagnostics.count("sync.withheld");
        if (message.type === "request") {
          const remote = this.#remote as HelloFrame;
          queueMicrotask(() =>
            this.#o.onMessage({
              type: "doc-unavailable",
              documentId: doc,
              senderId: remote.peer,
              targetId: this.#o.localPeer,
            } as Message)
          );
        }
        return;
      }
    }
    this.#send({ t: "msg", m: stripUndefined(message as unknown as Record<string, unknown>) });
  }

  #send(frame: Frame): void {
    if (this.#closed) return;
    try {
      const bytes = encodeFrame(frame);
      this.#o.diagnostics.count("sync.bytes.out", bytes.length);
      this.#o.link.send(bytes);
    } catch {
      this.close();
    }
  }

  #refuse(what: string, code: string, reason: string, space?: string): void {
    this.#o.diagnostics.refuse({
      kind: "sync",
      from: this.#remote?.did ?? this.#o.expectedRemoteDid,
      what,
      code,
      reason,
      ...(space ? { space } : {}),
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe?.();
    if (this.#lapse !== undefined) clearTimeout(this.#lapse);
    for (const answer of [...this.#wants.values()]) answer(undefined);
    for (const stream of this.#logStreams.values()) stream.abort();
    for (const [i, follow] of this.#following) follow({ t: "log", i, e: "the link to that node closed" });
    try {
      this.#o.link.close();
    } catch {
      // already gone
    }
    this.#o.onClose(this);
  }
}

function stripUndefined<T extends Record<string, unknown>>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as T;
}
