/**
 * Free text handed to an agent by Nostr DM, on a real peer process: its
 * weft.toml has `[bridges.nostr]` (a real relay on loopback) and an `[llm]`
 * whose one route is a recorded model (tests/fixtures/agent-loop/
 * listen-then-give-up.json, a scripted OpenAI-compatible server replaying a
 * recorded conversation — not a live model) that holds its first turn while
 * the test acts. The person pairs with `weft nostr pair`; agent `listener`
 * claims a task and asks the model; meanwhile "@listener …" by DM becomes
 * the person's comment on that task (signed by the bridge, counted for the
 * person), and the loop reads it into its next turn: the model's second
 * request carries it. Once the agent is idle, "@listener …" files a new
 * task with its labels (and the repository it last worked in) instead.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eventually } from "../../helpers/nodes.ts";
import { Phone } from "../../helpers/nostr-phone.ts";
import { startRelay, type TestRelay } from "../../helpers/nostr-relay.ts";
import { type PeerProcess, stopPeer, weft } from "../../helpers/peer-process.ts";
import { startRecordedModel } from "../../helpers/recorded-model-server.ts";
import { llmToml, LOOP_FIXTURES, peerWith, seedDemoRepo, weftJson as json } from "../../helpers/agent-loop-rig.ts";

const enc = encodeURIComponent;

interface TaskJson {
  id: string;
  title: string;
  labels: string[];
  creator: string;
  comments: Array<{ author: string; signer?: string; body: string }>;
}

describe("free text handed to an agent by Nostr DM", { timeout: 300_000 }, () => {
  let relay: TestRelay;
  let model: Awaited<ReturnType<typeof startRecordedModel>>;
  let host: PeerProcess;
  let phone: Phone;
  let work: string;

  before(async () => {
    relay = await startRelay();
    model = await startRecordedModel(join(LOOP_FIXTURES, "listen-then-give-up.json"));
    host = await peerWith(
      llmToml(model.url, "recorded-listen") + `\n[bridges.nostr]\nrelays = ["${relay.url}"]\nrate_burst = 50\n`,
    );
    phone = await Phone.connect(relay.url);
    work = await mkdtemp(join(tmpdir(), "weft-nostr-agent-"));
  });
  after(async () => {
    phone?.close();
    model?.stop();
    if (host) await stopPeer(host);
    await relay?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("reaches the agent's loop mid-task as the person's comment, and files a task for it when idle", async () => {
    const space = JSON.parse(await weft(host, "space", "list", "--json")).spaces[0].id as string;
    const address = JSON.parse(await weft(host, "nostr", "address", "--json")) as { pubkey: string; did: string };
    const person = await weft(host, "id");
    await seedDemoRepo(work, host, space);
    await json(host, "agent", "add", "listener", "--labels", "chat", "--budget", "1usd", "--space", space);
    const task = (await json<{ id: string }>(
      host,
      ...["task", "add", "tidy up add.sh", "--label", "chat", "--label", "repo:demo", "--space", space],
    )).id;

    await phone.send(address.pubkey, "pair");
    const code = (await phone.received(1)).match(/code is ([0-9A-Z]{5}-[0-9A-Z]{5})/)![1];
    await weft(host, "nostr", "pair", code, "--bridge", address.did, "--space", space);
    assert.match(await phone.received(2, 60_000), new RegExp(`^Paired with ${person} in `));

    // The agent claims the task and asks the model, which holds its answer.
    const ran = json<{ outcome: { kind: string; reason: string } }>(
      host,
      ...["agent", "run", "listener", "--once", "--space", space],
    );
    await eventually(async () => (await model.requests()) >= 1 || undefined, 120_000, "the loop's first model call");
    const first = (await model.request(0))!;
    assert.ok(!first.some((m) => m.content.includes("also look at src/sub.sh")), "not in the context pack");

    await phone.send(address.pubkey, "@listener also look at src/sub.sh, it may have the same bug");
    assert.match(
      await phone.received(3),
      new RegExp(`^Told listener on task ${task.slice(0, 6)} \\(tidy up add.sh\\); it reads it before its next step`),
    );
    const api = await host.api();
    const commented = await api.get<TaskJson>(`/v1/spaces/${enc(space)}/tasks/${task}`);
    const note = commented.comments.find((c) => c.body.includes("src/sub.sh"))!;
    assert.equal(note.author, person, "counted for the person");
    assert.equal(note.signer, address.did, "signed by the bridge");

    await model.release();
    const outcome = await ran;
    assert.equal(outcome.outcome.kind, "failed", JSON.stringify(outcome));
    assert.match(outcome.outcome.reason, /gave up: I read what you said/);
    const second = (await model.request(1))!;
    const last = second.at(-1)!;
    assert.equal(last.role, "user");
    assert.match(
      last.content,
      new RegExp(`Comment by ${person} on the task, while you work:\\nalso look at src/sub.sh`),
    );

    // Now idle (it gave the task back): the next words become a task with its labels.
    await phone.send(address.pubkey, "@listener write a README for the demo");
    const filed = await phone.received(4);
    const id = filed.match(/^listener is not working on a task: I filed task (\w{6}) in \S+ with its labels /)?.[1];
    assert.ok(id, filed);
    const { tasks } = await api.get<{ tasks: TaskJson[] }>(`/v1/spaces/${enc(space)}/tasks`);
    const made = tasks.find((t) => t.id.startsWith(id))!;
    assert.equal(made.title, "write a README for the demo");
    assert.deepEqual(made.labels, ["chat", "repo:demo"], "its labels, and the repository it last worked in");
  });
});
