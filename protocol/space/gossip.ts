/**
 * A space's gossip: ephemeral state carried as signed UCAN invocations on
 * three channels.
 *
 *   capacity   capacity adverts (/weft/capacity/advertise, TTL = exp)
 *   heads      document heads, so peers start syncing without polling
 *   leases     what scheduling waits on, as the signed task operations
 *              themselves: jobs' creations and lease operations (claims,
 *              renewals, starts, releases, results, witnesses), so a job
 *              reaches the nodes that may run it, and concurrent claims
 *              meet, within one hop instead of after the documents sync
 *              (which still carry them, durably)
 *
 * Transports carry it: the node's sync sessions (libp2p streams, WebSockets,
 * in-process links), each of which carries a space's gossip only to and
 * from a remote that proved it may sync that space. There is no open topic:
 * nothing of a space's gossip reaches a peer that is not a member, and a
 * message relayed by one is never seen here, let alone accepted. A message
 * is accepted once (by CID), from whichever member brings it first, only if
 * it is a valid invocation in this space — signed by its issuer, with a
 * chain from the space's root, not expired — and is then passed on to the
 * other sessions. Which member forwarded it does not matter: the signature
 * inside says who made it.
 */
import { cidKey, cidOf } from "../codec/cid.ts";
import type { Diagnostics } from "../diagnostics.ts";
import { isWeftError } from "../errors.ts";
import type { Signer } from "../identity/ed25519.ts";
import { Commands } from "../ucan/commands.ts";
import { proves } from "../ucan/command.ts";
import { invoke } from "../ucan/invocation.ts";
import type { Invocation } from "../ucan/invocation.ts";
import type { Ipld } from "../ucan/policy/ipld.ts";
import { advertShape, type CapacityAdvert, type LiveAdvert } from "../capacity/advert.ts";
import { type GossipChannel, MAX_GOSSIP_BYTES } from "../sync/frames.ts";
import type { Space } from "./space.ts";

export type { GossipChannel };

const HEADS_TTL_SECONDS = 60;

/** Does an operation travel on the leases channel: a claim or a lease operation below it, or a job's creation? */
export const travelsOnLeases = (command: string, args: Record<string, unknown>): boolean =>
  proves(Commands.taskClaim, command) || (command === Commands.taskCreate && args.run !== undefined);
/** Messages remembered (by CID) so each is handled and passed on once. */
const SEEN_LIMIT = 20_000;

/** One way gossip travels. `from` is the transport-specific source of a message, so it is not sent back. */
export interface GossipTransport {
  send(channel: GossipChannel, bytes: Uint8Array, from?: unknown): void;
}

export interface SpaceGossipOptions {
  space: Space;
  signer: Signer;
  diagnostics: Diagnostics;
  now: () => number;
  /** A document's heads were announced by a peer. */
  onHeads?(documentId: string, heads: string[], from: string): void;
}

export class SpaceGossip {
  readonly #o: SpaceGossipOptions;
  readonly #adverts = new Map<string, LiveAdvert & { bytes: Uint8Array }>();
  readonly #advertListeners = new Set<(a: LiveAdvert) => void>();
  readonly #transports = new Set<GossipTransport>();
  readonly #seen = new Set<string>();

  constructor(options: SpaceGossipOptions) {
    this.#o = options;
  }

  get space(): Space {
    return this.#o.space;
  }

  addTransport(transport: GossipTransport): () => void {
    this.#transports.add(transport);
    return () => this.#transports.delete(transport);
  }

  stop(): void {
    this.#transports.clear();
  }

  /** First sighting of these bytes? Remembers them. */
  #firstSight(bytes: Uint8Array): boolean {
    const key = cidKey(cidOf(bytes));
    if (this.#seen.has(key)) return false;
    if (this.#seen.size >= SEEN_LIMIT) this.#seen.delete(this.#seen.values().next().value as string);
    this.#seen.add(key);
    return true;
  }

  /**
   * Check a message for a channel: a valid invocation in this space, of the
   * channel's command, well-formed. Throws a WeftError saying why not.
   */
  async check(channel: GossipChannel, data: Uint8Array): Promise<Invocation> {
    const validator = this.space.authority.validator;
    if (channel === "leases") {
      // A lease operation is a task operation: checked at its own time, as the log will.
      const inv = await validator.verifyInvocationSignature(data);
      if (!travelsOnLeases(inv.cmd, inv.args)) {
        throw new Error(
          `only jobs' creations and lease operations (${Commands.taskClaim} and below) travel on the leases channel`,
        );
      }
      return (await validator.validate(inv, { now: Math.floor(Number((inv.args.at as number[])?.[0]) / 1000) }))
        .invocation;
    }
    const { invocation: inv } = await validator.validate(data); // wall clock: expired adverts are refused
    if (inv.sub !== this.space.id) throw new Error("for another space");
    if (inv.exp === null) throw new Error("gossip must expire");
    if (channel === "capacity") {
      if (inv.cmd !== Commands.capacityAdvertise) throw new Error(`expected ${Commands.capacityAdvertise}`);
      advertShape(inv.args, "args");
    } else {
      if (inv.cmd !== Commands.spaceSync) throw new Error(`expected ${Commands.spaceSync}`);
      const heads = inv.args.heads;
      if (typeof heads !== "object" || heads === null || Array.isArray(heads)) {
        throw new Error("args.heads must be a map");
      }
    }
    return inv;
  }

  /**
   * A message arrived over a transport (from a member). New and valid:
   * applied here and passed on to the other transports. Resolves to whether
   * it was accepted.
   */
  async receive(channel: GossipChannel, bytes: Uint8Array, from?: unknown): Promise<boolean> {
    if (!this.#firstSight(bytes)) return false;
    let inv: Invocation;
    try {
      inv = await this.check(channel, bytes);
    } catch (e) {
      this.#o.diagnostics.refuse({
        kind: "gossip",
        what: channel,
        code: isWeftError(e) ? e.code : "gossip/invalid",
        reason: (e as Error).message,
        space: this.space.id,
      });
      return false;
    }
    this.#o.diagnostics.count(`gossip.accepted.${channel}`);
    await this.#apply(channel, inv, bytes);
    this.#send(channel, bytes, from);
    return true;
  }

  async #apply(channel: GossipChannel, inv: Invocation, bytes: Uint8Array): Promise<void> {
    if (channel === "capacity") {
      const advert: LiveAdvert = {
        ...advertShape(inv.args, "args"),
        node: inv.iss,
        at: (inv.iat ?? 0) * 1000,
        expires: (inv.exp as number) * 1000,
      };
      this.#remember(advert, bytes);
    } else if (channel === "heads") {
      for (const [doc, heads] of Object.entries(inv.args.heads as Record<string, unknown>)) {
        if (Array.isArray(heads) && heads.every((h) => typeof h === "string")) {
          this.#o.onHeads?.(doc, heads as string[], inv.iss);
        }
      }
    } else {
      await this.space.ingest(bytes);
    }
  }

  #remember(advert: LiveAdvert, bytes: Uint8Array): void {
    const prev = this.#adverts.get(advert.node);
    if (prev && prev.at > advert.at) return;
    this.#adverts.set(advert.node, { ...advert, bytes });
    for (const l of this.#advertListeners) l(advert);
  }

  #send(channel: GossipChannel, bytes: Uint8Array, from?: unknown): void {
    for (const t of this.#transports) t.send(channel, bytes, from);
    this.#o.diagnostics.count(`gossip.sent.${channel}`);
  }

  /** Sign and send a message of our own. */
  #publish(channel: GossipChannel, bytes: Uint8Array): void {
    this.#firstSight(bytes);
    this.#send(channel, bytes);
  }

  /**
   * Advertise this node's capacity for `advert.ttl` seconds; `as`, the
   * capacity of another principal held on this node (a bridge's cluster),
   * signed by it under its own chain.
   */
  async advertise(advert: CapacityAdvert, as: Signer = this.#o.signer): Promise<LiveAdvert> {
    const args = advertShape(advert, "advert");
    const iat = Math.floor(this.#o.now() / 1000);
    const inv = await this.#sign(
      Commands.capacityAdvertise,
      args as unknown as Record<string, Ipld>,
      iat + args.ttl,
      iat,
      as,
    );
    const live: LiveAdvert = { ...args, node: as.did, at: iat * 1000, expires: (iat + args.ttl) * 1000 };
    this.#remember(live, inv.bytes);
    this.#publish("capacity", inv.bytes);
    return live;
  }

  /** Announce the heads of this space's documents. */
  async announceHeads(heads: Record<string, string[]>): Promise<void> {
    const iat = Math.floor(this.#o.now() / 1000);
    const inv = await this.#sign(Commands.spaceSync, { heads } as Record<string, Ipld>, iat + HEADS_TTL_SECONDS, iat);
    this.#publish("heads", inv.bytes);
  }

  /**
   * Gossip an operation this node wrote that scheduling waits on (a job's
   * creation, a claim, renewal, start, release, result or witness), so
   * every node sees it before the documents sync. One too large for a
   * gossip frame goes by the documents alone.
   */
  publishLease(op: Uint8Array): void {
    if (op.length <= MAX_GOSSIP_BYTES) this.#publish("leases", op);
  }

  async #sign(
    command: string,
    args: Record<string, Ipld>,
    exp: number,
    iat: number,
    issuer: Signer = this.#o.signer,
  ): Promise<Invocation> {
    const [chain] = this.space.authority.chainsFor(issuer.did, command, iat);
    if (!chain) throw new Error(`${issuer.did} holds no delegation for ${command} in ${this.space.id}`);
    const inv = await invoke({
      issuer,
      subject: this.space.id,
      command,
      args,
      proofs: chain,
      expiration: exp,
      issuedAt: iat,
    });
    this.space.authority.validator.trust(inv);
    return inv;
  }

  #live(): Array<LiveAdvert & { bytes: Uint8Array }> {
    const now = this.#o.now();
    for (const [k, a] of this.#adverts) if (a.expires < now) this.#adverts.delete(k);
    return [...this.#adverts.values()];
  }

  /** Live adverts (expired ones are dropped), by node DID. */
  adverts(): LiveAdvert[] {
    return this.#live().map(({ bytes: _, ...a }) => a);
  }

  /**
   * The signed adverts still live, as received: for a newly connected
   * remote, which would otherwise learn of each node only at its next advert.
   */
  advertBytes(): Uint8Array[] {
    return this.#live().map((a) => a.bytes);
  }

  onAdvert(listener: (a: LiveAdvert) => void): () => void {
    this.#advertListeners.add(listener);
    return () => this.#advertListeners.delete(listener);
  }
}
