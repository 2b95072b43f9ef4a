/**
 * A space's gossip: three gossipsub topics carrying signed UCAN invocations.
 *
 *   weft/1/<space>/capacity   capacity adverts (/weft/capacity/advertise, TTL = exp)
 *   weft/1/<space>/heads      document heads, so peers start syncing without polling
 *   weft/1/<space>/leases     lease renewals (the signed task operation itself)
 *
 * Topic validators accept only invocations by the message's signer (the
 * libp2p StrictSign origin, the same key) with a valid chain in this space,
 * not expired and well-formed; everything else is rejected, which costs the
 * forwarding peer gossipsub score, and is counted.
 */
import type { GossipSub, Message } from "@libp2p/gossipsub";
import { TopicValidatorResult } from "@libp2p/gossipsub";
import { createTopicScoreParams } from "@libp2p/gossipsub/score";
import type { PeerId } from "@libp2p/interface";
import type { Diagnostics } from "../diagnostics.ts";
import { isWeftError } from "../errors.ts";
import type { Signer } from "../identity/ed25519.ts";
import { didFromPeerId } from "../identity/peer-id.ts";
import { Commands } from "../ucan/commands.ts";
import { invoke } from "../ucan/invocation.ts";
import type { Invocation } from "../ucan/invocation.ts";
import type { Ipld } from "../ucan/policy/ipld.ts";
import { advertShape, type CapacityAdvert, type LiveAdvert } from "../capacity/advert.ts";
import type { Space } from "./space.ts";

export type GossipChannel = "capacity" | "heads" | "leases";

const CHANNELS: GossipChannel[] = ["capacity", "heads", "leases"];
const HEADS_TTL_SECONDS = 60;

export function topicOf(space: string, channel: GossipChannel): string {
  return `weft/1/${space}/${channel}`;
}

export interface SpaceGossipOptions {
  pubsub: GossipSub;
  space: Space;
  signer: Signer;
  diagnostics: Diagnostics;
  now: () => number;
  /** A document's heads were announced by a peer. */
  onHeads?(documentId: string, heads: string[], from: string): void;
}

export class SpaceGossip {
  readonly #o: SpaceGossipOptions;
  readonly #adverts = new Map<string, LiveAdvert>();
  readonly #advertListeners = new Set<(a: LiveAdvert) => void>();
  readonly #onMessage = (e: CustomEvent<Message>) => void this.#deliver(e.detail);
  #started = false;

  constructor(options: SpaceGossipOptions) {
    this.#o = options;
  }

  get space(): Space {
    return this.#o.space;
  }

  start(): void {
    if (this.#started) return;
    this.#started = true;
    const { pubsub } = this.#o;
    // deno-lint-ignore no-explicit-any
    const scoreTopics = (pubsub as any).score?.params?.topics as Record<string, unknown> | undefined;
    for (const channel of CHANNELS) {
      const topic = topicOf(this.space.id, channel);
      if (scoreTopics) {
        // Only invalid messages move the score (P4); time in mesh and delivery
        // counts are off, so a misbehaving peer cannot bank goodwill first.
        scoreTopics[topic] = createTopicScoreParams({
          topicWeight: 1,
          timeInMeshWeight: 0,
          invalidMessageDeliveriesWeight: -10,
          invalidMessageDeliveriesDecay: 0.9,
          meshMessageDeliveriesWeight: 0,
          meshFailurePenaltyWeight: 0,
          firstMessageDeliveriesWeight: 0,
        });
      }
      pubsub.topicValidators.set(topic, (from, msg) => this.#validate(channel, from, msg));
      pubsub.subscribe(topic);
    }
    pubsub.addEventListener("message", this.#onMessage);
  }

  stop(): void {
    if (!this.#started) return;
    this.#started = false;
    const { pubsub } = this.#o;
    pubsub.removeEventListener("message", this.#onMessage);
    for (const channel of CHANNELS) {
      const topic = topicOf(this.space.id, channel);
      pubsub.unsubscribe(topic);
      pubsub.topicValidators.delete(topic);
    }
  }

  /** Check a message on one of this space's topics. Never throws. */
  async #validate(channel: GossipChannel, _from: PeerId, msg: Message): Promise<TopicValidatorResult> {
    const reject = (code: string, reason: string, author?: string) => {
      this.#o.diagnostics.refuse({ kind: "gossip", from: author, what: channel, code, reason, space: this.space.id });
      return TopicValidatorResult.Reject;
    };
    if (msg.type !== "signed") return reject("gossip/unsigned", "messages must be signed by their origin");
    let origin: string;
    try {
      origin = didFromPeerId(msg.from);
    } catch {
      return reject("gossip/origin", "the origin is not an Ed25519 peer");
    }
    try {
      const inv = await this.#check(channel, msg.data);
      if (inv.iss !== origin) return reject("gossip/origin", `signed by ${origin} but issued by ${inv.iss}`, origin);
      this.#o.diagnostics.count(`gossip.accepted.${channel}`);
      return TopicValidatorResult.Accept;
    } catch (e) {
      return reject(isWeftError(e) ? e.code : "gossip/invalid", (e as Error).message, origin);
    }
  }

  async #check(channel: GossipChannel, data: Uint8Array): Promise<Invocation> {
    const validator = this.space.authority.validator;
    if (channel === "leases") {
      // A lease renewal is a task operation: the log checks it (at its own time) like any other.
      const inv = await validator.verifyInvocationSignature(data);
      if (inv.cmd !== Commands.taskRenew) throw new Error("only lease renewals travel on the leases topic");
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

  async #deliver(msg: Message): Promise<void> {
    const prefix = `weft/1/${this.space.id}/`;
    if (!msg.topic.startsWith(prefix)) return;
    const channel = msg.topic.slice(prefix.length) as GossipChannel;
    const validator = this.space.authority.validator;
    try {
      const inv = await validator.verifyInvocationSignature(msg.data); // cached by the topic validator
      if (channel === "capacity") {
        const args = advertShape(inv.args, "args");
        const advert: LiveAdvert = {
          ...args,
          node: inv.iss,
          at: (inv.iat ?? 0) * 1000,
          expires: (inv.exp as number) * 1000,
        };
        const prev = this.#adverts.get(inv.iss);
        if (!prev || prev.at <= advert.at) {
          this.#adverts.set(inv.iss, advert);
          for (const l of this.#advertListeners) l(advert);
        }
      } else if (channel === "heads") {
        for (const [doc, heads] of Object.entries(inv.args.heads as Record<string, unknown>)) {
          if (Array.isArray(heads) && heads.every((h) => typeof h === "string")) {
            this.#o.onHeads?.(doc, heads as string[], inv.iss);
          }
        }
      } else if (channel === "leases") {
        await this.space.ingest(msg.data);
      }
    } catch (e) {
      this.#o.diagnostics.refuse({
        kind: "gossip",
        what: channel,
        code: isWeftError(e) ? e.code : "gossip/invalid",
        reason: (e as Error).message,
        space: this.space.id,
      });
    }
  }

  async #publish(channel: GossipChannel, bytes: Uint8Array): Promise<void> {
    try {
      await this.#o.pubsub.publish(topicOf(this.space.id, channel), bytes);
      this.#o.diagnostics.count(`gossip.published.${channel}`);
    } catch (e) {
      this.#o.diagnostics.count("gossip.publish-failed");
      void e;
    }
  }

  /** Advertise this node's capacity for `advert.ttl` seconds. */
  async advertise(advert: CapacityAdvert): Promise<LiveAdvert> {
    const args = advertShape(advert, "advert");
    const nowMs = this.#o.now();
    const iat = Math.floor(nowMs / 1000);
    const inv = await this.#sign(
      Commands.capacityAdvertise,
      args as unknown as Record<string, Ipld>,
      iat + args.ttl,
      iat,
    );
    const live: LiveAdvert = { ...args, node: this.#o.signer.did, at: iat * 1000, expires: (iat + args.ttl) * 1000 };
    this.#adverts.set(live.node, live);
    for (const l of this.#advertListeners) l(live);
    await this.#publish("capacity", inv.bytes);
    return live;
  }

  /** Announce the heads of this space's documents. */
  async announceHeads(heads: Record<string, string[]>): Promise<void> {
    const iat = Math.floor(this.#o.now() / 1000);
    const inv = await this.#sign(Commands.spaceSync, { heads } as Record<string, Ipld>, iat + HEADS_TTL_SECONDS, iat);
    await this.#publish("heads", inv.bytes);
  }

  /** Gossip a lease renewal (a signed task operation) so every node sees the holder is alive. */
  publishLease(renewal: Uint8Array): Promise<void> {
    return this.#publish("leases", renewal);
  }

  async #sign(command: string, args: Record<string, Ipld>, exp: number, iat: number): Promise<Invocation> {
    const [chain] = this.space.authority.chainsFor(this.#o.signer.did, command, iat);
    if (!chain) throw new Error(`this node holds no delegation for ${command} in ${this.space.id}`);
    const inv = await invoke({
      issuer: this.#o.signer,
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

  /** Live adverts (expired ones are dropped), by node DID. */
  adverts(): LiveAdvert[] {
    const now = this.#o.now();
    for (const [k, a] of this.#adverts) if (a.expires < now) this.#adverts.delete(k);
    return [...this.#adverts.values()];
  }

  onAdvert(listener: (a: LiveAdvert) => void): () => void {
    this.#advertListeners.add(listener);
    return () => this.#advertListeners.delete(listener);
  }
}
