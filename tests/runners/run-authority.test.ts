/**
 * The kind capability check, across two real peer processes that both run
 * wasm: a job of kind K runs only if the principal who created its task
 * (the signed operation's issuer) holds /weft/run/K in the space. A member
 * delegated /weft/task but not /weft/run/wasm submits a wasm job: no node
 * places or starts it — while a job submitted after it by the operator
 * runs — and the node that would run it says why on the task. Once the
 * member is delegated /weft/run/wasm, the same job runs.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApiClient } from "../../peer/api/client.ts";
import { type Credentials, loadCredentials } from "../../peer/api/credentials.ts";
import type { Pod } from "../../protocol/scheduler/pods.ts";
import type { RunSpec } from "../../protocol/runner/runner.ts";
import type { TaskView } from "../../protocol/tasks/query.ts";
import { newTaskId } from "../../protocol/space/space.ts";
import { Commands } from "../../protocol/ucan/commands.ts";
import { buildSamples } from "../../wasm-runners/samples/build.ts";
import { eventually } from "../helpers/nodes.ts";
import { joinPeer, type PeerProcess, startPeer, stopPeer, weft } from "../helpers/peer-process.ts";
import { delegationIn, signer } from "../helpers/principals.ts";

const FAST = { WEFT_LEASE_SECONDS: "3", WEFT_ADVERTISE_SECONDS: "2", WEFT_SLOTS: "1" };
const enc = encodeURIComponent;

describe("a job runs only for a principal holding /weft/run/<kind>", { timeout: 180_000 }, () => {
  let host: PeerProcess;
  let other: PeerProcess;
  let operator: ApiClient;
  let space: string;
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "weft-run-authority-"));
    await writeFile(join(dir, "hasher.wasm"), (await buildSamples()).hasher.component);
    await writeFile(join(dir, "input.txt"), "asked for by a member\n");
    [host, other] = await Promise.all([startPeer(FAST), startPeer(FAST)]);
    space = await joinPeer(host, other);
    operator = await host.api();
    await eventually(
      async () => (await operator.get<{ nodes: unknown[] }>("/v1/capacity")).nodes.length >= 2,
      30_000,
      "both nodes' adverts",
    );
  });

  after(async () => {
    await Promise.all([host, other].filter((p) => p).map((p) => stopPeer(p)));
    await rm(dir, { recursive: true, force: true });
  });

  /** Have the operator delegate `command` in the space to `key`; the delegation's chain as the API returns it. */
  async function delegateTo(key: string, command: string) {
    const r = await operator.request<{ cid: string; chain: string[]; container: string }>(
      "POST",
      `/v1/spaces/${enc(space)}/capabilities`,
      { audience: key, command, name: `holds ${command}` },
    );
    return { delegation: await delegationIn(r.container, r.cid), chain: r.chain };
  }

  const task = (id: string) => operator.get<TaskView>(`/v1/spaces/${enc(space)}/tasks/${id}`);
  const put = async (file: string) =>
    (JSON.parse(await weft(host, "artifact", "put", join(dir, file), "--space", space, "--json")) as { cid: string })
      .cid;

  it("a member without /weft/run/wasm gets nothing run on any node, and is told why; with it, the job runs", async () => {
    const spec: RunSpec = {
      runner: "wasm",
      program: await put("hasher.wasm"),
      args: ["input.txt"],
      inputs: [{ path: "input.txt", cid: await put("input.txt") }],
      env: [],
      limits: { wallMs: 60_000, memoryMb: 64, outputBytes: 1 << 20 },
    };
    const member = await signer();
    const { delegation, chain } = await delegateTo(member.did, Commands.task);
    const creds = await loadCredentials(host.home);
    const asMember = new ApiClient(
      {
        url: creds.url,
        node: creds.node,
        signer: member,
        nodeDelegation: delegation,
        powerline: delegation,
      } as Credentials,
      creds.url,
      { [space]: chain.slice(0, -1) },
    );
    const refused = newTaskId();
    await asMember.op(space, "create", { task: refused, title: "asked without the right", run: spec });

    // The node that would run it says why, on the task.
    const noted = await eventually(
      async () => (await task(refused)).comments.find((c) => c.body.includes(`does not hold ${Commands.runWasm}`)),
      60_000,
      "a comment saying why the job is not run",
    );
    assert.match(noted!.body, new RegExp(`its creator ${member.did} does not hold /weft/run/wasm in this space`));
    // A job submitted after it, by someone holding the right, runs to the end meanwhile: both nodes looked again.
    const control = JSON.parse(
      await weft(
        host,
        "run",
        join(dir, "hasher.wasm"),
        "input.txt",
        "--input",
        `input.txt=${join(dir, "input.txt")}`,
        "--json",
      ),
    ) as Pod;
    await eventually(
      async () => (await task(control.task)).status === "done" || undefined,
      60_000,
      "the operator's job done",
    );
    for (const [name, node] of [["host", host], ["other", other]] as const) {
      const view = await (await node.api()).get<TaskView>(`/v1/spaces/${enc(space)}/tasks/${refused}`);
      assert.equal(view.status, "open", `${name}: the refused job is still open`);
      assert.deepEqual(
        view.history.map((h) => h.kind).filter((k) => k !== "comment"),
        ["create"],
        `${name}: no node claimed, started or finished it`,
      );
    }

    // Delegated /weft/run/wasm, the same member's job runs.
    await delegateTo(member.did, Commands.runWasm);
    const ran = await eventually(
      async () => {
        const t = await task(refused);
        return t.status === "done" || t.status === "failed" ? t : undefined;
      },
      60_000,
      "the job run once its creator holds the right",
    );
    assert.equal(ran!.status, "done", JSON.stringify(ran!.results));
  });
});
