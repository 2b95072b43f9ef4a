/**
 * Who the remote is and which spaces it may sync, for the life of a session.
 *
 * Both sides send `hello` with a fresh 32-byte nonce, then `auth` with a
 * proof per space, each an invocation of /weft/space/sync whose args name
 * the remote's nonce and DID. A proof names its space, the space document
 * and the chain of members that delegated it, so the side that did not
 * choose the remote (it accepted the connection: `withhold`) sends its
 * proofs only once the remote's have been checked, and only for the spaces
 * the remote proved: a stranger that connects learns nothing of a space.
 * Only after the remote's `auth` is checked is the remote announced to
 * automerge-repo. Each side answers `auth` with `authz`, the spaces it
 * accepted, so a node that just joined a space knows when a peer will
 * serve it. Each `auth` carries all of the sender's proofs and replaces the
 * previous ones. When a space or its revocations change, the sessions
 * concerned with that space (and only those) re-check the remote's proofs
 * and re-send their own.
 *
 * A session rests on the remote's delegations: it re-checks them when the
 * earliest one lapses, and when a revocation cuts the remote off it first
 * sends it the signed records (`revoked`), so the revoked node learns it
 * and can check it itself, then stops sharing that space with it.
 *
 *   {type: "hello", version: 1, nonce: bytes(32), did, peer, meta?}   peer: the DID or its PeerId
 *   {type: "auth", proofs: [container bytes, …]}   one container per space
 *   {type: "authz", spaces: [space DID, …]}        the remote's proofs we accepted
 *   {type: "revoked", space, records: [record, …]}  "you were revoked in this space"
 */
import { equalBytes, randomBytes } from "../bytes.ts";
import { isWeftError } from "../errors.ts";
import { isPeerIdOf } from "../identity/peer-id.ts";
import {
  bool,
  type Check,
  check,
  int,
  InvalidInput,
  list,
  object,
  oneOf,
  optional,
  required,
  str,
} from "../schema/input-checks.ts";
import {
  bytes,
  didKey,
  type FrameHandler,
  type FrameSpec,
  MAX_FRAME_BYTES,
  stripUndefined,
  SyncProtocolError,
} from "./frame-checks.ts";
import type { SessionContext } from "./session-context.ts";

/** Proofs in one `auth`, and spaces in one `authz`. */
const MAX_PROOFS = 256;
/** Records in one `revoked` frame, and the largest one. */
export const MAX_REVOCATION_RECORDS = 16;
const MAX_REVOCATION_BYTES = 16 * 1024;
/** The longest a timer can wait; a later lapse is re-checked in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** `items`, refusing an empty list. */
function nonEmpty<T>(items: Check<T[]>): Check<T[]> {
  return check((v, field) => {
    const out = items(v, field);
    if (out.length === 0) throw new InvalidInput(field, "must not be empty");
    return out;
  }, { ...items.json, minItems: 1 });
}

const helloFrame = object({
  type: required(oneOf("hello")),
  version: required(int(1, 1)),
  nonce: required(bytes(32, 32)),
  did: required(didKey),
  /** The sender's automerge-repo peer id. */
  peer: required(str(1, 256)),
  meta: optional(object({ storageId: optional(str(1, 256)), isEphemeral: optional(bool) })),
});
const authFrame = object({ type: required(oneOf("auth")), proofs: required(list(bytes(MAX_FRAME_BYTES), MAX_PROOFS)) });
const authzFrame = object({ type: required(oneOf("authz")), spaces: required(list(didKey, MAX_PROOFS)) });
const revokedFrame = object({
  type: required(oneOf("revoked")),
  space: required(didKey),
  /** Revocation records (UCAN invocations), each checked by the receiver. */
  records: required(nonEmpty(list(bytes(MAX_REVOCATION_BYTES), MAX_REVOCATION_RECORDS))),
});

export type HelloFrame = ReturnType<typeof helloFrame>;
export type AuthFrame = ReturnType<typeof authFrame>;
export type AuthzFrame = ReturnType<typeof authzFrame>;
export type RevokedFrame = ReturnType<typeof revokedFrame>;
export type HandshakeFrame = HelloFrame | AuthFrame | AuthzFrame | RevokedFrame;

export const handshakeFrames = {
  hello: { check: helloFrame, stage: "first" } as FrameSpec<HelloFrame>,
  auth: { check: authFrame, stage: "hello" } as FrameSpec<AuthFrame>,
  authz: { check: authzFrame, stage: "hello" } as FrameSpec<AuthzFrame>,
  revoked: { check: revokedFrame, stage: "ready" } as FrameSpec<RevokedFrame>,
};

export class Handshake {
  readonly #ctx: SessionContext;
  readonly #nonce = randomBytes(32);
  #remote?: HelloFrame;
  #ready = false;
  /** Spaces the remote proved it may sync. */
  readonly spaces = new Set<string>();
  /** Spaces the remote accepted our proofs for. */
  readonly accepted = new Set<string>();
  /** Spaces shared both ways, as reported to `onShared`. */
  readonly shared = new Set<string>();
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
  #unsubscribe?: () => void;

  constructor(ctx: SessionContext) {
    this.#ctx = ctx;
  }

  readonly handlers: {
    hello: FrameHandler<HelloFrame>;
    auth: FrameHandler<AuthFrame>;
    authz: FrameHandler<AuthzFrame>;
    revoked: FrameHandler<RevokedFrame>;
  } = {
    hello: (frame) => this.#onHello(frame),
    auth: (frame) => this.#onAuth(frame.proofs),
    authz: (frame) => this.#onAuthz(frame.spaces),
    revoked: (frame) => this.#onRevoked(frame),
  };

  get remote(): HelloFrame | undefined {
    return this.#remote;
  }

  /** The remote's auth was checked: it was announced to the repo. */
  get ready(): boolean {
    return this.#ready;
  }

  /** Say hello, and follow changes to who may sync which space. */
  start(): void {
    const { options } = this.#ctx;
    this.#ctx.send({
      type: "hello",
      version: 1,
      nonce: this.#nonce,
      did: options.localDid,
      peer: options.localPeer,
      // Only the fields the remote's schema knows, whatever else the repo's metadata grows.
      ...(options.localMeta
        ? {
          meta: stripUndefined({ storageId: options.localMeta.storageId, isEphemeral: options.localMeta.isEphemeral }),
        }
        : {}),
    });
    this.#unsubscribe = options.authority.onChange((space) => void this.#reauthorize(space));
  }

  close(): void {
    this.#unsubscribe?.();
    if (this.#lapse !== undefined) clearTimeout(this.#lapse);
  }

  async #onHello(hello: HelloFrame): Promise<void> {
    if (this.#remote) throw new SyncProtocolError("a second hello");
    const expected = this.#ctx.options.expectedRemoteDid;
    if (expected !== undefined && hello.did !== expected) {
      throw new SyncProtocolError(`hello claims ${hello.did} but the connection is from ${expected}`);
    }
    if (!isPeerIdOf(hello.peer, hello.did)) {
      throw new SyncProtocolError(`hello names peer id ${hello.peer}, which is not ${hello.did}'s (its DID or PeerId)`);
    }
    this.#remote = hello;
    if (!this.#ctx.options.withhold) await this.#sendProofs();
  }

  async #sendProofs(): Promise<void> {
    const remote = this.#remote;
    if (!remote || this.#ctx.closed()) return;
    let proofs = await this.#ctx.options.authority.prove(remote.nonce, remote.did);
    if (this.#ctx.options.withhold) proofs = proofs.filter((p) => this.spaces.has(p.space));
    this.#offered = new Set(proofs.map((p) => p.space));
    this.#ctx.send({ type: "auth", proofs: proofs.map((p) => p.proof) });
  }

  async #onAuth(proofs: Uint8Array[]): Promise<void> {
    this.#proofs = proofs.filter((p, i) => !proofs.slice(0, i).some((q) => equalBytes(p, q)));
    await this.#checkProofs();
    // Withholding: every auth of the remote's is answered with ours, for the spaces it proved.
    if (this.#ctx.options.withhold) await this.#sendProofs();
    if (!this.#ready && !this.#ctx.closed()) {
      this.#ready = true;
      this.#ctx.options.onReady(this.#ctx.session);
      this.#noteShared();
    }
  }

  /**
   * Verify every proof the remote sent; the spaces that pass are what it may
   * sync, until the earliest of their chains lapses (checked again then).
   * A space it held before and was revoked in is told to it first.
   */
  async #checkProofs(): Promise<void> {
    const { options } = this.#ctx;
    const remote = this.#remote as HelloFrame;
    const verified = new Set<string>();
    let rejected = 0;
    let lapsesInMs: number | null = null;
    for (const proof of this.#proofs) {
      try {
        const grant = await options.authority.verify(proof, this.#nonce, options.localDid, remote.did);
        verified.add(grant.space);
        if (grant.lapsesInMs !== null) lapsesInMs = Math.min(lapsesInMs ?? grant.lapsesInMs, grant.lapsesInMs);
      } catch (e) {
        rejected++;
        this.#ctx.refuse("auth", isWeftError(e) ? e.code : "sync/auth", (e as Error).message);
      }
    }
    if (this.#ctx.closed()) return;
    this.#rejected = rejected;
    for (const space of this.#verified) if (!verified.has(space)) this.#tellRevoked(space, remote.did);
    this.#verified = verified;
    this.#scheduleLapse(lapsesInMs);
    this.#setSpaces(options.carrier ? new Set([...verified, ...this.accepted]) : verified);
    this.#ctx.send({ type: "authz", spaces: [...verified] });
  }

  #scheduleLapse(inMs: number | null): void {
    if (this.#lapse !== undefined) clearTimeout(this.#lapse);
    this.#lapse = undefined;
    if (inMs === null) return;
    this.#lapse = setTimeout(() => {
      this.#lapse = undefined;
      // A re-check that cannot finish must not leave the lapsed grant standing.
      this.#ctx.enqueue(() => this.#checkProofs());
    }, Math.min(Math.max(inMs, 0), MAX_TIMER_MS));
  }

  /** The remote lost a space: if a revocation did it, send it the records before we stop sharing the space. */
  #tellRevoked(space: string, remoteDid: string): void {
    const records = this.#ctx.options.authority.revocationsOf(space, remoteDid).slice(0, MAX_REVOCATION_RECORDS);
    if (records.length > 0) this.#ctx.send({ type: "revoked", space, records });
  }

  /** The remote says we were revoked in a space we offered it: heard once per space, checked by the node. */
  async #onRevoked(frame: RevokedFrame): Promise<void> {
    // Not ours to hear (any more): we stopped offering that space, or were told already.
    if (!this.#offered.has(frame.space) || this.#toldRevoked.has(frame.space)) return;
    this.#toldRevoked.add(frame.space);
    await this.#ctx.options.authority.learnRevocations(frame.space, frame.records, (this.#remote as HelloFrame).did);
  }

  #onAuthz(spaces: string[]): void {
    this.accepted.clear();
    for (const s of spaces) this.accepted.add(s);
    if (this.#ctx.options.carrier) this.#setSpaces(new Set([...this.spaces, ...spaces]));
    this.#noteShared();
  }

  /** Replace the spaces shared with the remote, telling the node if that changed anything. */
  #setSpaces(next: ReadonlySet<string>): void {
    const changed = next.size !== this.spaces.size || [...next].some((s) => !this.spaces.has(s));
    if (!changed) return;
    this.spaces.clear();
    for (const s of next) this.spaces.add(s);
    if (!this.#ready) return;
    this.#ctx.options.onAccessChanged?.(this.#ctx.session);
    this.#noteShared();
  }

  #noteShared(): void {
    if (!this.#ready || this.#ctx.closed()) return;
    for (const s of this.shared) if (!this.spaces.has(s) || !this.accepted.has(s)) this.shared.delete(s);
    const added = [...this.accepted].filter((s) => this.spaces.has(s) && !this.shared.has(s));
    for (const s of added) this.shared.add(s);
    if (added.length > 0) this.#ctx.options.onShared?.(this.#ctx.session, added);
  }

  /**
   * A space was added or its members or revocations changed: re-check the
   * remote's proofs if that can change what they grant (they include that
   * space, or some did not verify and might now), and send ours again if
   * they are for that space.
   */
  async #reauthorize(space: string): Promise<void> {
    // Our proofs can go out as soon as we know the remote's nonce; its proofs are re-checked once it sent some.
    if (this.#ctx.closed() || !this.#remote) return;
    if (this.#ready && (this.spaces.has(space) || this.#rejected > 0)) await this.#checkProofs();
    if (this.#offered.has(space) || this.#ctx.options.authority.offers(space)) await this.#sendProofs();
  }
}
