/**
 * The Nostr bridge's delivery, against real relays on loopback that the
 * tests stop and start again (same port, same SQLite file): DMs stored while
 * the bridge could not reach its relay are read once it can, and a DM whose
 * gift wrap NIP-59 dated two days early is read after the relay comes back
 * (nostr-tools' own reconnect asks only for events newer than the newest it
 * saw, and would skip it).
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, rmdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { finalizeEvent, generateSecretKey, getPublicKey, type NostrEvent, verifyEvent } from "nostr-tools/pure";
import * as nip59 from "nostr-tools/nip59";
import { encrypt, getConversationKey } from "nostr-tools/nip44";
import { eventually } from "../../helpers/nodes.ts";
import { AbstractSimplePool } from "nostr-tools/abstract-pool";
import { wrapEvent } from "nostr-tools/nip17";
import { Inbox } from "../../../bridges/nostr/inbox.ts";
import { Phone } from "../../helpers/nostr-phone.ts";
import { startRelay, type TestRelay } from "../../helpers/nostr-relay.ts";
import { confirm, pairPhone, type Rig, rig, startNostr, stop } from "../../helpers/nostr-rig.ts";
import { Commands } from "../../../protocol/ucan/commands.ts";

/** A relay that keeps its events in a file, so that it can be stopped and started again on its port. */
class RestartableRelay {
  #relay?: TestRelay;
  readonly file: string;
  port = 0;
  constructor(file: string) {
    this.file = file;
  }
  async start(): Promise<TestRelay> {
    this.#relay = await startRelay(this.file, this.port);
    this.port = Number(new URL(this.#relay.url).port);
    return this.#relay;
  }
  async stop(): Promise<void> {
    await this.#relay?.close();
    this.#relay = undefined;
  }
}

/** A gift wrap of `text` from `secret` to `to`, dated exactly `ageS` seconds back (NIP-59 allows two days). */
function wrapDated(secret: Uint8Array, to: string, text: string, ageS: number) {
  const rumor = nip59.createRumor({ kind: 14, content: text, tags: [["p", to]] }, secret);
  const seal = nip59.createSeal(rumor, secret, to);
  const once = generateSecretKey();
  return finalizeEvent({
    kind: 1059,
    created_at: Math.floor(Date.now() / 1000) - ageS,
    tags: [["p", to]],
    content: encrypt(JSON.stringify(seal), getConversationKey(once, to)),
  }, once);
}

const warned = (r: Rig, message: string) => r.logs.some((l) => l.message === message);

describe("the inbox subscription", () => {
  it("is not answered from the relay's cache of an earlier subscription made in the same second", async () => {
    // @nostr-relay/core answers a filter it saw in the last second from its cache of that answer.
    const relay = await startRelay();
    const secret = generateSecretKey();
    const pubkey = getPublicKey(secret);
    const at = Date.now();
    const now = () => at; // both subscriptions in the same second
    const log = { info: () => {}, warn: () => {} };
    const listen = () => {
      const pool = new AbstractSimplePool({ verifyEvent, enableReconnect: false, maxWaitForConnection: 10_000 });
      const got: NostrEvent[] = [];
      const inbox = new Inbox({ pool, relays: [relay.url], pubkey, onWrap: (e) => got.push(e), log, now });
      inbox.open();
      return { got, close: () => (inbox.close(), pool.destroy()) };
    };
    const phone = await Phone.connect(relay.url);
    try {
      const first = listen();
      await new Promise((res) => setTimeout(res, 100)); // its REQ answered (empty) and cached by the relay
      first.close();
      const wrap = wrapEvent(phone.secret, { publicKey: pubkey }, "while no one listened");
      await phone.publish(wrap);
      const second = listen();
      try {
        await eventually(() => second.got.some((e) => e.id === wrap.id), 10_000, "the stored wrap");
      } finally {
        second.close();
      }
    } finally {
      phone.close();
      await relay.close();
    }
  });

  it("pages back through more stored wraps than a relay answers at once (100), losing none", async () => {
    const relay = await startRelay();
    const pubkey = getPublicKey(generateSecretKey());
    const sender = await Phone.connect(relay.url);
    const pool = new AbstractSimplePool({ verifyEvent, enableReconnect: false, maxWaitForConnection: 10_000 });
    try {
      // 250 wraps (a gift wrap's outside is all the inbox reads), dated over the last two days as NIP-59 does.
      const now = Math.floor(Date.now() / 1000);
      const sent = new Set<string>();
      for (let i = 0; i < 250; i++) {
        const e = finalizeEvent({
          kind: 1059,
          created_at: now - Math.floor((i * 2 * 24 * 3600) / 250) - (i % 7),
          tags: [["p", pubkey]],
          content: `wrap ${i}`,
        }, generateSecretKey());
        await sender.publish(e);
        sent.add(e.id);
      }
      const got = new Set<string>();
      const inbox = new Inbox({
        pool,
        relays: [relay.url],
        pubkey,
        onWrap: (e) => got.add(e.id),
        log: { info: () => {}, warn: () => {} },
      });
      inbox.open();
      try {
        await eventually(() => got.size === sent.size || undefined, 20_000, `all 250 wraps (got ${got.size})`);
        assert.deepEqual([...got].filter((id) => !sent.has(id)), []);
      } finally {
        inbox.close();
      }
    } finally {
      pool.destroy();
      sender.close();
      await relay.close();
    }
  });
});

describe("the Nostr bridge when its relay goes away", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "weft-nostr-relay-"));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("sends the pairing's confirmation again until a relay takes it", async () => {
    const r = await rig();
    const phone = await Phone.connect(r.relay.url);
    try {
      await phone.send(r.bridge.pubkey!, "pair");
      const code = (await phone.received(1)).match(/code is ([0-9A-Z]{5}-[0-9A-Z]{5})/)![1];
      r.relay.refuse = (e) =>
        e.kind === 1059 && e.tags.some(([t, v]) => t === "p" && v === phone.pubkey) ? "blocked: not yet" : undefined;
      await confirm(r.b, r.joined, r.bridgeSigner.did, code, Commands.taskCreate);
      await eventually(() => r.bridge.counters.unsent >= 2 || undefined, 30_000, "two tries of the confirmation");
      r.relay.refuse = undefined;
      assert.match(await phone.received(2), new RegExp(`^Paired with ${r.b.node.did}`));
    } finally {
      phone.close();
      await stop(r);
    }
  });

  it("publishes its profile and inbox relays again soon when no relay took them at start", async () => {
    const relay = await startRelay();
    relay.refuse = (e) => (e.kind === 0 || e.kind === 10050 ? "blocked: not yet" : undefined);
    const r = await rig({}, { relay });
    try {
      assert.ok(warned(r, "no relay took the bridge's event"), "the refusal logged");
      assert.equal(relay.count(10050), 0);
      relay.refuse = undefined;
      await eventually(() => relay.count(0) === 1 && relay.count(10050) === 1 || undefined, 20_000, "published again");
    } finally {
      await stop(r);
    }
  });

  it("retries a reply no relay took, and takes the DM as handled only once one did", async () => {
    const r = await rig();
    const phone = await Phone.connect(r.relay.url);
    try {
      await pairPhone(r, phone);
      const toPhone = (e: { kind: number; tags: string[][] }) =>
        e.kind === 1059 && e.tags.some(([t, v]) => t === "p" && v === phone.pubkey);
      r.relay.refuse = (e) => (toPhone(e) ? "blocked: the test refuses DMs to the phone" : undefined);
      await phone.send(r.bridge.pubkey!, "new task: answered once a relay takes it");
      await eventually(() => r.bridge.counters.unsent >= 2 || undefined, 30_000, "two tries of the reply");
      assert.equal(phone.inbox.length, 2, "no reply reached the phone yet");
      r.relay.refuse = undefined;
      assert.match(await phone.received(3), /^Created task \w{6} in team: answered once a relay takes it$/);
      const made = r.space.tasks().filter((t) => t.title === "answered once a relay takes it");
      assert.equal(made.length, 1, "the retried command made one task");
      const { handled, unsent } = r.bridge.counters;
      assert.equal(handled, 2 + unsent, "pair, then the DM once per try: read again only while its reply was unsent");
    } finally {
      phone.close();
      await stop(r);
    }
  });

  it("reads the DMs stored while it could not reach its relay at start, once it can", async () => {
    const relay = new RestartableRelay(join(dir, "a.sqlite"));
    const r = await rig({}, { relay: await relay.start() });
    let phone = await Phone.connect(r.relay.url);
    try {
      await pairPhone(r, phone);
      await r.bridge.close();
      r.hosted.detach();
      await phone.send(r.bridge.pubkey!, "new task: sent while the bridge was away");
      phone.close();
      await relay.stop();
      Object.assign(r, await startNostr(r)); // its relay is down: it cannot subscribe now
      await eventually(() => warned(r, "nostr inbox relay lost; subscribing again"), 30_000, "the lost relay noticed");
      r.relay = await relay.start();
      phone = await Phone.connect(r.relay.url, phone.secret);
      assert.match(await phone.received(3), /^Created task \w{6} in team: sent while the bridge was away$/);
      assert.ok(warned(r, "nostr inbox relay back"), JSON.stringify(r.logs.slice(-12)));
    } finally {
      phone.close();
      await stop(r);
    }
  });

  it("reads, after its relay restarts, a DM whose wrap is dated two days back", async () => {
    const relay = new RestartableRelay(join(dir, "b.sqlite"));
    const r = await rig({}, { relay: await relay.start() });
    let phone = await Phone.connect(r.relay.url);
    try {
      await pairPhone(r, phone);
      phone.close();
      await relay.stop();
      await eventually(() => warned(r, "nostr inbox relay lost; subscribing again"), 30_000, "the lost relay noticed");
      r.relay = await relay.start();
      phone = await Phone.connect(r.relay.url, phone.secret);
      // Published as soon as the relay is back, maybe before the bridge is: the relay keeps it either way.
      await phone.publish(wrapDated(phone.secret, r.bridge.pubkey!, "new task: dated two days back", 2 * 24 * 3600));
      assert.match(await phone.received(3), /^Created task \w{6} in team: dated two days back$/);
    } finally {
      phone.close();
      await stop(r);
    }
  });
});

describe("the Nostr bridge's replies on the person's own inbox relays (kind 10050)", () => {
  it("replies to a paired person on the relay their kind 10050 names, not on the one the DM came by", async () => {
    const inbox = await startRelay(); // the person's, which the bridge does not listen on
    const r = await rig();
    const out = await Phone.connect(r.relay.url); // the person writes through the bridge's relay …
    const home = await Phone.connect(inbox.url, out.secret); // … and reads on their own
    try {
      const list = finalizeEvent(
        { kind: 10050, created_at: Math.floor(Date.now() / 1000), tags: [["relay", inbox.url]], content: "" },
        out.secret,
      );
      await out.publish(list); // where the bridge can find it: on the relays it knows
      await out.send(r.bridge.pubkey!, "pair");
      const code = (await out.received(1)).match(/code is (\S+);/)![1]; // a stranger's answer: the bridge's relay
      await confirm(r.b, r.joined, r.bridgeSigner.did, code, Commands.taskCreate);
      assert.match(await home.received(1), /^Paired with /, "once paired, on their own relay");
      await out.send(r.bridge.pubkey!, "status?");
      assert.match(await home.received(2), /^team: /);
      assert.equal(out.inbox.length, 1, "nothing more on the relay the DMs came by");
      assert.equal(r.logs.filter((l) => l.message.startsWith("no inbox relays")).length, 0);
    } finally {
      out.close();
      home.close();
      await stop(r);
      await inbox.close();
    }
  });

  it("falls back to the bridge's relays for a paired person with no kind 10050, saying so", async () => {
    const r = await rig();
    const phone = await Phone.connect(r.relay.url);
    try {
      await pairPhone(r, phone);
      assert.ok(r.logs.some((l) => l.message.startsWith("no inbox relays (kind 10050) found for this person")));
    } finally {
      phone.close();
      await stop(r);
    }
  });
});

describe("the Nostr bridge's handling, durably", () => {
  it("reads again after a restart a DM whose handling failed part-way, instead of losing it", async () => {
    const r = await rig();
    const phone = await Phone.connect(r.relay.url);
    const jam = join(r.dir, "pairings.json.tmp"); // a directory where the pairing book writes: issuing a code fails
    try {
      await mkdir(jam);
      await phone.send(r.bridge.pubkey!, "pair");
      await eventually(
        () => r.logs.some((l) => l.message === "a Nostr DM could not be handled"),
        30_000,
        "the failure",
      );
      assert.equal(phone.inbox.length, 0);
      await r.bridge.close();
      r.hosted.detach();
      await rmdir(jam);
      Object.assign(r, await startNostr(r));
      assert.match(await phone.received(1), /code is \S+;/, "answered after the restart");
      assert.equal(r.bridge.counters.replayed, 0);
    } finally {
      phone.close();
      await stop(r);
    }
  });
});
