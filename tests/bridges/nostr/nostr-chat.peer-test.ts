/**
 * Free text by Nostr DM, against a real relay, a stock nostr-tools client
 * and a recorded model (tests/helpers/recorded-model-server.ts: an
 * OpenAI-compatible server replaying tests/fixtures/nostr/dm-chat.json, not
 * a live model) behind the peer's real LLM router: a paired person's text
 * gets the model's answer, charged to the day's DM budget; once their calls
 * for the day are used, they get a plain answer and the model is not called;
 * a stranger's text and an unknown slash form never reach it.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eventually } from "../../helpers/nodes.ts";
import { Phone } from "../../helpers/nostr-phone.ts";
import { pairPhone, type Rig, rig, stop } from "../../helpers/nostr-rig.ts";
import { startRecordedModel } from "../../helpers/recorded-model-server.ts";
import { llmSettings } from "../../helpers/llm.ts";
import { llmToml } from "../../helpers/agent-loop-rig.ts";
import { startLlm } from "../../../peer/llm/start.ts";
import { bridgeLlm } from "../../../peer/daemon/bridges.ts";

const FIXTURE = new URL("../../fixtures/nostr/dm-chat.json", import.meta.url).pathname;

describe("free text by Nostr DM, answered by a recorded model through the LLM router", () => {
  let r: Rig;
  let model: Awaited<ReturnType<typeof startRecordedModel>>;
  let keys: string;
  let phone: Phone;

  before(async () => {
    model = await startRecordedModel(FIXTURE);
    keys = await mkdtemp(join(tmpdir(), "weft-nostr-keys-"));
    const llm = await startLlm(llmSettings(llmToml(model.url, "recorded")), { env: {}, keysDir: keys });
    r = await rig({ rate_burst: 50, rate_per_minute: 600, model_calls_per_day: 1 }, { llm: bridgeLlm(llm) });
    phone = await Phone.connect(r.relay.url);
    await pairPhone(r, phone);
  });
  after(async () => {
    phone.close();
    await stop(r);
    model.stop();
    await rm(keys, { recursive: true, force: true });
  });

  it("answers a paired person's text with the model's answer, charged to the DM budget", async () => {
    await phone.send(r.bridge.pubkey!, "what is going on in my space?");
    assert.equal(
      await phone.received(3),
      'Your space team has one open task, fix the flaky test. Send "tasks" to list them.',
    );
    assert.equal(await model.requests(), 1);
    const ledger = JSON.parse(await readFile(join(r.dir, "dm-model-spend.json"), "utf8"));
    assert.equal(ledger.calls[r.b.node.did], 1);
    assert.ok(ledger.spentMicroUsd > 0, `the call's cost is settled (${ledger.spentMicroUsd} micro-USD)`);
  });

  it("stops further calls once the person's calls for the day are used, with a plain answer", async () => {
    await phone.send(r.bridge.pubkey!, "and what should I do next?");
    assert.match(await phone.received(4), /^You have used your 1 model call for today; commands still work/);
    assert.equal(await model.requests(), 1, "the model was not called");
    await phone.send(r.bridge.pubkey!, "status?");
    assert.match(await phone.received(5), /^team: /, "commands still work");
  });

  it("never hands a stranger's text or an unknown slash form to the model", async () => {
    const stranger = await Phone.connect(r.relay.url);
    try {
      const handled = r.bridge.counters.handled;
      await stranger.send(r.bridge.pubkey!, "hello, model?");
      assert.match(await stranger.received(1), /only take messages from people paired/);
      await phone.send(r.bridge.pubkey!, "/frobnicate the tests");
      assert.match(await phone.received(6), /^I understand:/);
      await eventually(() => r.bridge.counters.handled >= handled + 2, 30_000, "both DMs handled");
      assert.equal(await model.requests(), 1);
    } finally {
      stranger.close();
    }
  });
});
