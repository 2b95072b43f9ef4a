/**
 * A space's gossip over libp2p gossipsub: one topic per channel,
 * `weft/1/<space>/<channel>`. Topic validators run SpaceGossip.check before
 * a message is forwarded, so an invalid one is rejected at the first hop and
 * costs the peer that sent it gossipsub score (P4); it is counted and
 * recorded with why. Messages must be signed by their libp2p origin
 * (StrictSign), but the origin may be a node relaying a browser's message:
 * the invocation's own signature says who made it.
 */
import type { GossipSub, Message } from "@libp2p/gossipsub";
import { TopicValidatorResult } from "@libp2p/gossipsub";
import { createTopicScoreParams } from "@libp2p/gossipsub/score";
import type { PeerId } from "@libp2p/interface";
import type { Diagnostics } from "../diagnostics.ts";
import { isWeftError } from "../errors.ts";
import { didFromPeerId } from "../identity/peer-id.ts";
import { GOSSIP_CHANNELS, type GossipChannel } from "../sync/frames.ts";
import { type GossipTransport, type SpaceGossip, topicOf } from "./gossip.ts";

/** The `from` of messages that came in over gossipsub. */
const GOSSIPSUB = Symbol("gossipsub");

export function gossipsubTransport(pubsub: GossipSub, gossip: SpaceGossip, diagnostics: Diagnostics): GossipTransport {
  const space = gossip.space.id;
  const prefix = `weft/1/${space}/`;

  const validate = async (channel: GossipChannel, _from: PeerId, msg: Message): Promise<TopicValidatorResult> => {
    const reject = (code: string, reason: string, author?: string) => {
      diagnostics.refuse({ kind: "gossip", from: author, what: channel, code, reason, space });
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
      await gossip.check(channel, msg.data);
      return TopicValidatorResult.Accept;
    } catch (e) {
      return reject(isWeftError(e) ? e.code : "gossip/invalid", (e as Error).message, origin);
    }
  };

  const onMessage = (e: CustomEvent<Message>) => {
    const msg = e.detail;
    if (!msg.topic.startsWith(prefix)) return;
    void gossip.receive(msg.topic.slice(prefix.length) as GossipChannel, msg.data, GOSSIPSUB, true);
  };

  // deno-lint-ignore no-explicit-any
  const scoreTopics = (pubsub as any).score?.params?.topics as Record<string, unknown> | undefined;
  for (const channel of GOSSIP_CHANNELS) {
    const topic = topicOf(space, channel);
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
    pubsub.topicValidators.set(topic, (from, msg) => validate(channel, from, msg));
    pubsub.subscribe(topic);
  }
  pubsub.addEventListener("message", onMessage);

  return {
    send(channel, bytes, from) {
      if (from === GOSSIPSUB) return; // gossipsub forwards its own
      pubsub.publish(topicOf(space, channel), bytes).then(
        () => diagnostics.count(`gossip.published.${channel}`),
        () => diagnostics.count("gossip.publish-failed"),
      );
    },
    stop() {
      pubsub.removeEventListener("message", onMessage);
      for (const channel of GOSSIP_CHANNELS) {
        const topic = topicOf(space, channel);
        pubsub.unsubscribe(topic);
        pubsub.topicValidators.delete(topic);
      }
    },
  };
}
