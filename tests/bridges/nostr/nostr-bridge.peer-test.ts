/**
 * The Nostr bridge against a real relay on loopback (@nostr-relay/core with
 * its SQLite repository) and a stock nostr-tools client as the person's
 * phone. The bridge runs on peer a as its own DID; the person is peer b, a
 * member of the space, who confirms pairing with b's own key. Each check of
 * the bridge is shown to matter: a stranger, a forged seal, a replayed gift
 * wrap (also across a restart), an oversized wrap, a flood, and a paired
 * person asking for what they did not delegate.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { finalizeEvent, generateSecretKey, getEventHash, getPublicKey } from "nostr-tools/pure";
import * as nip59 from "nostr-tools/nip59";
import { eventually } from "../../helpers/nodes.ts";
import { Phone } from "../../helpers/nostr-phone.ts";
import { pairPhone, type Rig, rig, startNostr, stop } from "../../helpers/nostr-rig.ts";
import { generateSeed } from "../../../protocol/identity/ed25519.ts";
import { nativeSigner } from "../../../peer/crypto/native-signer.ts";
import { nativeVerifier } from "../../../peer/crypto/native-verifier.ts";
import { Commands } from "../../../protocol/ucan/commands.ts";
import { delegate } from "../../../protocol/ucan/delegation.ts";
import { PAIRING_META, pairingProof } from "../../../protocol/bridge/pairing-proof.ts";
import { boundDid } from "../../../bridges/nostr/binding.ts";

describe("the Nostr bridge, against a real relay and a stock client", () => {
  let r: Rig;
  before(async () => {
    r = await rig({ rate_burst: 50, rate_per_minute: 600 });
  });
  after(() => stop(r));

  it("publishes a profile whose DID binding anyone can check, and its inbox relays", async () => {
    const phone = await Phone.connect(r.relay.url);
    try {
      await eventually(() => r.relay.count(0) === 1 && r.relay.count(10050) === 1, 30_000, "kind 0 and 10050");
      const { Relay } = await import("nostr-tools/relay");
      const relay = await Relay.connect(r.relay.url);
      const events = await new Promise<import("nostr-tools/pure").NostrEvent[]>((resolve) => {
        const got: import("nostr-tools/pure").NostrEvent[] = [];
        relay.subscribe([{ kinds: [0, 10050], authors: [r.bridge.pubkey!] }], {
          onevent: (e) => got.push(e),
          oneose: () => resolve(got),
        });
      });
      relay.close();
      const profile = events.find((e) => e.kind === 0)!;
      assert.equal(await boundDid(profile, nativeVerifier()), r.bridgeSigner.did);
      const tampered = { ...profile, tags: [["weft-did", r.b.node.did, profile.tags[0][2]]] };
      assert.equal(await boundDid(tampered, nativeVerifier()), undefined, "another DID in the tag does not verify");
      assert.deepEqual(events.find((e) => e.kind === 10050)!.tags, [["relay", r.relay.url]]);
    } finally {
      phone.close();
    }
  });

  it("pairs by a code confirmed with the person's own key; 'new task' makes a signed task seen on another peer", async () => {
    const phone = await Phone.connect(r.relay.url);
    try {
      await pairPhone(r, phone);
      await phone.send(r.bridge.pubkey!, "new task: fix the flaky test");
      const reply = await phone.received(3);
      assert.match(reply, /^Created task (\w{6}) in team: fix the flaky test$/);
      const prefix = reply.split(" ")[2];
      const task = (await eventually(
        () => r.joined.tasks().find((t) => t.id.startsWith(prefix)),
        30_000,
        "task on b",
      ))!;
      assert.equal(task.title, "fix the flaky test");
      assert.equal(task.creator, r.bridgeSigner.did, "signed as the bridge's DID, checked by b");
      await phone.send(r.bridge.pubkey!, "status?");
      assert.match(await phone.received(4), /^team: 1 open \(1 tasks in all\)$/);
      await phone.send(r.bridge.pubkey!, "/tasks");
      assert.match(await phone.received(5), new RegExp(`${prefix} open fix the flaky test`));
    } finally {
      phone.close();
    }
  });

  it("does not pair a member who copies someone else's pairing proof under their own DID", async () => {
    const phone = await Phone.connect(r.relay.url);
    try {
      await phone.send(r.bridge.pubkey!, "pair");
      const code = (await phone.received(1)).match(/code is (\S+);/)![1];
      // a sees b's proof in the space document and re-signs it as its own delegation.
      const stolen = pairingProof(code, r.b.node.did);
      await r.space.addDelegations([
        await delegate({
          issuer: r.a.node.signer,
          audience: r.bridgeSigner.did,
          subject: r.space.id,
          command: Commands.taskCreate,
          expiration: null,
          meta: { [PAIRING_META]: stolen },
        }),
        ...r.space.authority.chainsFor(r.a.node.did, Commands.taskCreate, Math.floor(Date.now() / 1000))[0],
      ]);
      const handled = r.bridge.counters.handled;
      await phone.send(r.bridge.pubkey!, "status?");
      await eventually(() => r.bridge.counters.handled > handled, 30_000, "the status DM handled");
      const greeting = await phone.received(2);
      assert.match(greeting, /only take messages from people paired/, "still a stranger");
    } finally {
      phone.close();
    }
  });

  it("answers an unpaired sender once, then nothing, and none of it reaches the space", async () => {
    const phone = await Phone.connect(r.relay.url);
    try {
      const tasks = r.space.tasks().length;
      const handled = r.bridge.counters.handled;
      for (const text of ["new task: from a stranger", "status?", "new task: again"]) {
        await phone.send(r.bridge.pubkey!, text);
      }
      await eventually(() => r.bridge.counters.handled === handled + 3, 30_000, "three DMs handled");
      assert.match(await phone.received(1), /only take messages from people paired/);
      // The bridge handles DMs one at a time, in order: the first answer was sent before the last was read.
      await new Promise((res) => setTimeout(res, 200));
      assert.equal(phone.inbox.length, 1, "one answer, then silence");
      assert.equal(r.space.tasks().length, tasks, "no task made for a stranger");
    } finally {
      phone.close();
    }
  });

  it("drops a seal whose pubkey is not the rumor's (a forged sender)", async () => {
    const victim = await Phone.connect(r.relay.url);
    try {
      await pairPhone(r, victim);
      const attacker = generateSecretKey();
      const rumor = nip59.createRumor(
        { kind: 14, content: "new task: planted", tags: [["p", r.bridge.pubkey!]] },
        attacker,
      );
      rumor.pubkey = victim.pubkey;
      rumor.id = getEventHash(rumor);
      const wrap = nip59.createWrap(nip59.createSeal(rumor, attacker, r.bridge.pubkey!), r.bridge.pubkey!);
      const tasks = r.space.tasks().length;
      await victim.publish(wrap);
      await eventually(() => r.bridge.counters.dropped["forged-seal"] === 1, 30_000, "the forged seal dropped");
      assert.equal(r.space.tasks().length, tasks);
      assert.equal(victim.inbox.length, 2, "no answer to the victim");
    } finally {
      victim.close();
    }
  });

  it("refuses an oversized gift wrap before decrypting it", async () => {
    const stranger = generateSecretKey();
    const wrap = finalizeEvent({
      kind: 1059,
      created_at: Math.floor(Date.now() / 1000),
      tags: [["p", r.bridge.pubkey!]],
      content: "A".repeat(40_000), // not even a NIP-44 payload: decrypting it would say "undecryptable"
    }, stranger);
    const phone = await Phone.connect(r.relay.url);
    try {
      await phone.publish(wrap);
      await eventually(() => r.bridge.counters.dropped.oversized === 1, 30_000, "the oversized wrap dropped");
      assert.equal(r.bridge.counters.dropped.undecryptable, undefined);
      assert.equal(getPublicKey(stranger).length, 64);
    } finally {
      phone.close();
    }
  });

  it("refuses, with a plain answer, what the person did not delegate, even when someone else did", async () => {
    const phone = await Phone.connect(r.relay.url);
    try {
      await pairPhone(r, phone, [Commands.taskCreate]);
      await r.space.invite({ audience: nativeSigner(generateSeed()).did, kind: "agent", name: "ada" });
      // a (not the person) delegates pausing agents to the bridge: it must not lend that to b's DMs.
      await r.space.invite({ audience: r.bridgeSigner.did, command: Commands.agent, kind: "agent", name: "nostr" });
      await phone.send(r.bridge.pubkey!, "pause agent ada");
      const answer = await phone.received(3);
      assert.match(answer, /You may not pause agents in team through me/);
      assert.match(answer, /--command \/weft\/agent\/pause/);
      assert.equal(r.space.log.reducer.spend.paused(r.space.members().find((m) => m.name === "ada")!.did), undefined);
    } finally {
      phone.close();
    }
  });
});

describe("the Nostr bridge's durable dedupe and rate limit", () => {
  it("handles a replayed gift wrap once, also re-wrapped and across a bridge restart", async () => {
    const r = await rig();
    const phone = await Phone.connect(r.relay.url);
    try {
      await pairPhone(r, phone);
      const rumor = nip59.createRumor(
        { kind: 14, content: "new task: only once", tags: [["p", r.bridge.pubkey!]] },
        phone.secret,
      );
      const seal = nip59.createSeal(rumor, phone.secret, r.bridge.pubkey!);
      await phone.publish(nip59.createWrap(seal, r.bridge.pubkey!));
      assert.match(await phone.received(3), /Created task/);
      await phone.publish(nip59.createWrap(seal, r.bridge.pubkey!)); // same rumor, a new wrap
      await eventually(() => r.bridge.counters.replayed === 1, 30_000, "the re-wrap seen as a replay");
      await r.bridge.close();
      r.hosted.detach();
      // A restarted bridge fetches every stored wrap again (its look-back spans NIP-59's randomized dates).
      Object.assign(r, await startNostr(r));
      // Waits for at least three (polling cannot miss a count that passes 3), then says what it saw if it stalls.
      await eventually(
        () => {
          if (r.bridge.counters.replayed < 3) throw new Error(`counters ${JSON.stringify(r.bridge.counters)}`);
          return true;
        },
        30_000,
        "the three stored wraps seen as replays",
      );
      assert.equal(r.bridge.counters.replayed, 3, "exactly the three stored wraps were replays");
      assert.equal(r.bridge.counters.handled, 0, "nothing handled twice");
      assert.equal(r.space.tasks().filter((t) => t.title === "only once").length, 1);
      assert.equal(phone.inbox.length, 3);
    } finally {
      phone.close();
      await stop(r);
    }
  });

  it("limits each sender after unwrapping, before any answer or action", async () => {
    const r = await rig({ rate_burst: 3, rate_per_minute: 1 });
    const phone = await Phone.connect(r.relay.url);
    const other = await Phone.connect(r.relay.url);
    try {
      await pairPhone(r, phone); // "pair" took one token
      for (let i = 0; i < 6; i++) await phone.send(r.bridge.pubkey!, `new task: flood ${i}`);
      await eventually(() => r.bridge.counters.rateLimited === 4, 30_000, "four over the rate");
      await other.send(r.bridge.pubkey!, "hello");
      assert.match(await other.received(1), /only take messages/, "another sender is not held up");
      assert.equal(r.space.tasks().filter((t) => t.title.startsWith("flood")).length, 2);
      assert.equal(phone.inbox.length, 4);
    } finally {
      phone.close();
      other.close();
      await stop(r);
    }
  });
});
