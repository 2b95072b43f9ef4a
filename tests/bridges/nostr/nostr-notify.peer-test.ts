/**
 * Notifications by Nostr DM, against a real relay and a stock nostr-tools
 * client: a person opts in with "/notify on all", and a task failing on
 * another peer, a patch an agent proposes and an agent's request for
 * approval each reach the phone; "notify off runs" stops that kind, and the
 * setting is kept across a bridge restart.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { eventually } from "../../helpers/nodes.ts";
import { Phone } from "../../helpers/nostr-phone.ts";
import { pairPhone, type Rig, rig, startNostr, stop } from "../../helpers/nostr-rig.ts";
import { generateSeed } from "../../../protocol/identity/ed25519.ts";
import { nativeSigner } from "../../../peer/crypto/native-signer.ts";
import { Commands } from "../../../protocol/ucan/commands.ts";
import { planHash } from "../../../protocol/approvals/plan-hash.ts";
import { newTaskId } from "../../../protocol/space/index.ts";
import type { Space } from "../../../protocol/space/space.ts";

const commit = (n: number) => n.toString(16).padStart(40, "0");

async function failTask(space: Space, title: string): Promise<string> {
  const task = await space.act("create", { task: newTaskId(), title });
  await space.act("close", { task: task.id, outcome: "failed" });
  return task.id;
}

describe("notifications by Nostr DM, opted into per person", () => {
  let r: Rig;
  let phone: Phone;
  const agent = nativeSigner(generateSeed());
  const propose = (id: string, title: string) =>
    r.space.perform(Commands.patchPropose, {
      patch: id,
      repo: "web",
      target: "refs/heads/main",
      base: commit(1),
      head: commit(2),
      title,
    }, agent);

  before(async () => {
    r = await rig({ rate_burst: 50, rate_per_minute: 600 });
    await r.space.invite({ audience: agent.did, kind: "agent", name: "ada" });
    await r.space.perform(Commands.repoCreate, { repo: "web", defaultBranch: "main" });
    phone = await Phone.connect(r.relay.url);
    await pairPhone(r, phone, [Commands.taskCreate, Commands.patchReview]);
  });
  after(async () => {
    phone.close();
    await stop(r);
  });

  it("notifies of nothing until asked, then says what it will notify of", async () => {
    await failTask(r.joined, "before opting in");
    await phone.send(r.bridge.pubkey!, "/notify");
    assert.match(await phone.received(3), /^I notify you of nothing/);
    await phone.send(r.bridge.pubkey!, "notify on all");
    assert.equal(
      await phone.received(4),
      "I DM you when there is a task or run that failed; a patch (or a new revision) waiting for review; " +
        "an agent waiting for your approval.",
    );
  });

  it("DMs a task failing on another peer", async () => {
    const id = await failTask(r.joined, "nightly build");
    assert.equal(await phone.received(5), `Task ${id.slice(0, 6)} failed in team: nightly build`);
  });

  it("DMs a patch waiting for review", async () => {
    await propose("ab12000011", "fix the flaky test");
    assert.match(await phone.received(6), /^Patch ab12000011 \(web\) waits for review in team: fix the flaky test\n/);
    assert.match(phone.inbox[5].text, /Reply "approve patch ab120000"/);
  });

  it("DMs an agent waiting for approval, with its plan", async () => {
    const plan = "run npm test with the network on\nto fetch the fixtures";
    await r.space.perform(Commands.approvalRequest, {
      request: "cd34000022",
      kind: "network",
      program: "npm test",
      plan,
      hash: planHash(plan),
    }, agent);
    const notice = await phone.received(7);
    assert.match(notice, /^Agent ada waits for your approval in team \(network, request cd34000022\):\n/);
    assert.match(notice, /to fetch the fixtures\nReply "approve cd340000"/);
  });

  it("stops a kind turned off, and keeps the setting across a restart", async () => {
    await phone.send(r.bridge.pubkey!, "notify off runs");
    assert.match(await phone.received(8), /^I DM you when there is a patch .*; an agent waiting/);
    await r.bridge.close();
    r.hosted.detach();
    Object.assign(r, await startNostr(r, { rate_burst: 50, rate_per_minute: 600 }));
    const id = await failTask(r.joined, "not told");
    // The bridge's peer has the failure before the patch: its notices go out in that order.
    await eventually(() => r.space.task(id)?.status === "failed", 30_000, "the failure synced to a");
    await propose("ef56000033", "told after the failure");
    assert.match(await phone.received(9), /^Patch ef56000033 /, "the failure before it was not sent");
  });
});

describe("notifications across the bridge's downtime, and their rate", () => {
  it("tells once, when it is back, what happened while it was down, and never again", async () => {
    const r = await rig({ rate_burst: 50, rate_per_minute: 600 });
    const phone = await Phone.connect(r.relay.url);
    try {
      await pairPhone(r, phone);
      await phone.send(r.bridge.pubkey!, "notify on runs");
      await phone.received(3);
      const told = await failTask(r.joined, "told as it happened");
      assert.equal(await phone.received(4), `Task ${told.slice(0, 6)} failed in team: told as it happened`);
      await r.bridge.close();
      r.hosted.detach();
      const missed = [await failTask(r.joined, "failed while away 1"), await failTask(r.joined, "failed while away 2")];
      for (const id of missed) await eventually(() => r.space.task(id)?.status === "failed", 30_000, "synced to a");
      Object.assign(r, await startNostr(r, { rate_burst: 50, rate_per_minute: 600 }));
      const caught = await phone.received(5);
      assert.match(caught, /^While I was away \(2\):\n/);
      for (const id of missed) assert.ok(caught.includes(`Task ${id.slice(0, 6)} failed`), caught);
      assert.ok(!caught.includes("told as it happened"), "what was told is not told again");
      // Restarted once more: nothing is repeated, so the next DM is the next news.
      await r.bridge.close();
      r.hosted.detach();
      Object.assign(r, await startNostr(r, { rate_burst: 50, rate_per_minute: 600 }));
      const next = await failTask(r.joined, "after the second restart");
      assert.equal(await phone.received(6), `Task ${next.slice(0, 6)} failed in team: after the second restart`);
    } finally {
      phone.close();
      await stop(r);
    }
  });

  it("coalesces what is over a person's rate into one DM", async () => {
    const table = { rate_burst: 50, rate_per_minute: 600, notify_burst: 2, notify_per_hour: 360 };
    const r = await rig(table);
    const phone = await Phone.connect(r.relay.url);
    try {
      await pairPhone(r, phone);
      await phone.send(r.bridge.pubkey!, "notify on runs");
      await phone.received(3);
      const ids: string[] = [];
      for (let i = 1; i <= 5; i++) ids.push(await failTask(r.joined, `flaky ${i}`));
      const [first, second, held] = [await phone.received(4), await phone.received(5), await phone.received(6)];
      assert.match(first, /^Task \w{6} failed in team: flaky \d$/);
      assert.match(second, /^Task \w{6} failed in team: flaky \d$/);
      assert.match(held, /^3 notifications held back \(more than 360 an hour\):\n/);
      for (const id of ids) {
        assert.equal([first, second, held].filter((t) => t.includes(`Task ${id.slice(0, 6)} failed`)).length, 1, id);
      }
    } finally {
      phone.close();
      await stop(r);
    }
  });
});
