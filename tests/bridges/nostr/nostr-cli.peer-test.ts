/**
 * The Nostr bridge end to end, as people run it: a full peer process whose
 * weft.toml has `[bridges.nostr]` (a real relay on loopback), a second
 * peer process that joined its space, a person's phone (a stock
 * nostr-tools client) that DMs "pair", the person confirming the code with
 * the real `weft nostr pair CODE` on their own peer, and a DM that creates
 * a task seen on that second peer through `weft task list`.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eventually } from "../../helpers/nodes.ts";
import { Phone } from "../../helpers/nostr-phone.ts";
import { startRelay, type TestRelay } from "../../helpers/nostr-relay.ts";
import { joinPeer, type PeerProcess, startPeer, stopPeer, weft } from "../../helpers/peer-process.ts";

describe("the Nostr bridge in a full daemon, paired through the weft CLI", () => {
  let relay: TestRelay;
  let host: PeerProcess;
  let person: PeerProcess;
  let phone: Phone;

  before(async () => {
    relay = await startRelay();
    const home = await mkdtemp(join(tmpdir(), "weft-nostr-cli-"));
    await writeFile(join(home, "weft.toml"), `[bridges.nostr]\nrelays = ["${relay.url}"]\nrate_burst = 50\n`);
    host = await startPeer({}, home);
    person = await startPeer();
    phone = await Phone.connect(relay.url);
  });
  after(async () => {
    phone?.close();
    await Promise.all([host && stopPeer(host), person && stopPeer(person)]);
    await relay?.close();
  });

  it("pairs with `weft nostr pair CODE`, then a DM creates a task seen on the second peer", async () => {
    const space = await joinPeer(host, person);
    const address = JSON.parse(await weft(host, "nostr", "address", "--json")) as {
      npub: string;
      pubkey: string;
      relays: string[];
      did: string;
    };
    assert.deepEqual(address.relays, [relay.url]);
    assert.match(address.npub, /^npub1/);

    await phone.send(address.pubkey, "pair");
    const offer = await phone.received(1);
    const code = offer.match(/code is ([0-9A-Z]{5}-[0-9A-Z]{5})/)?.[1];
    assert.ok(code, `a code in: ${offer}`);
    const confirmed = JSON.parse(
      await weft(person, "nostr", "pair", code, "--bridge", address.did, "--space", space, "--json"),
    ) as { delegations: Array<{ command: string }> };
    assert.deepEqual(confirmed.delegations.map((d) => d.command), [
      "/weft/task/create",
      "/weft/task/comment",
      "/weft/agent",
      "/weft/patch/review",
    ]);
    const personDid = await weft(person, "id");
    assert.match(await phone.received(2, 60_000), new RegExp(`^Paired with ${personDid} in `));

    await phone.send(address.pubkey, "new task: fix the flaky test from my phone");
    const reply = await phone.received(3);
    const prefix = reply.match(/^Created task (\w{6}) in /)?.[1];
    assert.ok(prefix, `a created task in: ${reply}`);
    const task = (await eventually(
      async () => {
        const { tasks } = JSON.parse(await weft(person, "task", "list", "--space", space, "--json")) as {
          tasks: Array<{ id: string; title: string; creator: string }>;
        };
        return tasks.find((t) => t.id.startsWith(prefix));
      },
      60_000,
      "the task on the second peer",
    ))!;
    assert.equal(task.title, "fix the flaky test from my phone");
    assert.equal(task.creator, address.did, "signed as the bridge, checked by the second peer");
  });
});
