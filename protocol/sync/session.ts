/**
 * One authenticated sync session with one remote, over any framed link.
 *
 * Both sides send `hello` with a fresh 32-byte nonce, then `auth` with a
 * proof per space, each an invocation of /weft/space/sync whose args name
 * the remote's nonce and DID. Only after the remote's `auth` is checked is
 * the remote announced to automerge-repo, and from then on every message
 * in either direction is let through only for documents of spaces the
 * remote proved it may sync. Everything else is dropped and counted.
 * Each side answers `auth` with `authz`, the spaces it accepted, so a node
 * that just joined a space knows when a peer will serve it. When spaces or
 * revocations change, proofs are re-checked and re-sent.
 */
import type { Message } from "@automerge/automerge-repo";
import { isWeftError } from "../errors.ts";
import type { Diagnostics } from "../diagnostics.ts";
import { equalBytes, randomBytes } from "../bytes.ts";
import type { SyncAuthority } from "./authority.ts";
import { decodeFrame, encodeFrame, type Frame, type HelloFrame, SyncProtocolError } from "./frames.ts";

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
   * The remote is a relay this node chose to use: it carries the spaces it
   * accepts our proofs for, so those spaces' documents are shared with it
   * although it is not a member itself.
   */
  carrier?: boolean;
  /** The remote proved who it is: announce it to the repo. */
  onReady(session: SyncSession): void;
  /** The remote accepted our proofs for these spaces (it will serve them to us). */
  onAccepted?(session: SyncSession, spaces: readonly string[]): void;
  /** A message the gate let through, with senderId set to the remote. */
  onMessage(message: Message): void;
  onClose(session: SyncSession): void;
}

/** Proofs kept per session for re-checking; more is refused. */
const MAX_REMOTE_PROOFS = 256;
const DOC_MESSAGES = new Set(["sync", "request", "doc-unavailable", "ephemeral", "remote-heads-changed"]);
const PEER_MESSAGES = new Set(["remote-subscription-change"]);

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
  readonly #proofs: Uint8Array[] = [];
  #unsubscribe?: () => void;

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
    this.#unsubscribe = this.#o.authority.onChange(() => void this.#reauthorize());
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
    await this.#sendProofs();
  }

  async #sendProofs(): Promise<void> {
    const remote = this.#remote;
    if (!remote || this.#closed) return;
    const proofs = await this.#o.authority.prove(remote.nonce, remote.did);
    this.#send({ t: "auth", proofs });
  }

  async #onAuth(proofs: Uint8Array[]): Promise<void> {
    for (const p of proofs) {
      if (this.#proofs.length >= MAX_REMOTE_PROOFS) throw new SyncProtocolError("too many space proofs");
      if (!this.#proofs.some((q) => equalBytes(p, q))) this.#proofs.push(p);
    }
    await this.#checkProofs();
    if (!this.#ready && !this.#closed) {
      this.#ready = true;
      this.#o.onReady(this);
    }
  }

  /** Verify every proof the remote sent; the spaces that pass are what it may sync. */
  async #checkProofs(): Promise<void> {
    const remote = this.#remote as HelloFrame;
    const spaces = new Set<string>();
    for (const proof of this.#proofs) {
      try {
        spaces.add(await this.#o.authority.verify(proof, this.#nonce, this.#o.localDid, remote.did));
      } catch (e) {
        this.#refuse("auth", isWeftError(e) ? e.code : "sync/auth", (e as Error).message);
      }
    }
    this.spaces.clear();
    for (const s of spaces) this.spaces.add(s);
    if (this.#o.carrier) { for (const s of this.accepted) this.spaces.add(s); }
    this.#send({ t: "authz", spaces: [...spaces] });
  }

  #onAuthz(spaces: string[]): void {
    this.accepted.clear();
    for (const s of spaces) this.accepted.add(s);
    if (this.#o.carrier) { for (const s of spaces) this.spaces.add(s); }
    this.#o.onAccepted?.(this, spaces);
  }

  /** Spaces or revocations changed: re-check the remote's proofs and send ours again. */
  async #reauthorize(): Promise<void> {
    // Our proofs can go out as soon as we know the remote's nonce; its proofs are re-checked once it sent some.
    if (this.#closed || !this.#remote) return;
    if (this.#ready) await this.#checkProofs();
    await this.#sendProofs();
  }

  #onMsg(m: Record<string, unknown>): void {
    const remote = this.#remote as HelloFrame;
    if (!this.#ready) throw new SyncProtocolError("msg before auth");
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
