/**
 * Patches across two real peer processes and a member node, with real git commits and real
 * WASM runs: a patch proposed on one peer and reviewed on another merges
 * only once a run of its head commit has passed. Before that, `weft patch
 * merge` says which check is missing or failed; and a member that forges a
 * merge anyway — without evidence, or with a "passing" manifest it signed
 * itself for a run the task log records as failed — is refused by every
 * peer, which keeps the patch open. A key holding only /weft/patch/propose
 * (an agent's) proposes, and its merge is refused.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { promisify } from "node:util";
import { multiaddr } from "@multiformats/multiaddr";
import type { ApiClient } from "../../peer/api/client.ts";
import { ApiClient as Client } from "../../peer/api/client.ts";
import { loadCredentials } from "../../peer/api/credentials.ts";
import { HEADS_HEADER } from "../../peer/api/routes.ts";
import type { Patch } from "../../protocol/patch/state.ts";
import type { PatchReducer } from "../../protocol/patch/reducer.ts";
import type { Space } from "../../protocol/space/space.ts";
import { PATCH_OPS } from "../../protocol/patch/ops.ts";
import type { Pod } from "../../protocol/scheduler/pods.ts";
import { newTaskId } from "../../protocol/space/space.ts";
import { Commands } from "../../protocol/ucan/commands.ts";
import { invoke } from "../../protocol/ucan/invocation.ts";
import type { Ipld } from "../../protocol/ucan/policy/ipld.ts";
import { buildSamples } from "../../wasm-runners/samples/build.ts";
import { ArtifactClient } from "../../peer/artifacts/api-client.ts";
import { delegationIn, signer } from "../helpers/principals.ts";
import { eventually, injectOp, libp2pNode, type TestNode } from "../helpers/nodes.ts";
import { joinPeer, type PeerProcess, startPeer, stopPeer } from "../helpers/peer-process.ts";
import { signedRun } from "../helpers/patch-runs.ts";

const enc = encodeURIComponent;
const git = promisify(execFile);
const CLI = new URL("../../peer/cli/weft.js", import.meta.url).pathname;

/** Run the CLI against a peer; resolves with its exit code and output, whatever the code. */
async function weftRaw(p: PeerProcess, ...args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, ...args], {
      env: { ...process.env, WEFT_HOME: p.home },
    });
    return { code: 0, out: stdout + stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, out: x.stdout + x.stderr };
  }
}

describe("patches, against two peer processes", () => {
  let a: PeerProcess, b: PeerProcess;
  let apiA: ApiClient, apiB: ApiClient;
  let space: string;
  let repo: string;
  let base: string, head: string;
  let program: string;
  let member: TestNode;
  let joined: Space;

  before(async () => {
    a = await startPeer(); // one at a time: two starting together on a loaded machine can pass startPeer's 30 s
    b = await startPeer();
    apiA = await a.api();
    space = (await apiA.request<{ id: string }>("POST", "/v1/spaces", { name: "code" })).id;
    await joinPeer(a, b, space);
    apiB = await b.api();
    // A member node of its own (it forges merges below) creates the repository; a's CLI key maintains it.
    member = await libp2pNode();
    const { stdout: invite } = await promisify(execFile)(process.execPath, [
      CLI,
      "space",
      "invite",
      "--to",
      member.node.did,
      "--space",
      space,
    ], { env: { ...process.env, WEFT_HOME: a.home } });
    await member.node.libp2p!.dial(multiaddr(b.address));
    joined = await member.node.join(invite.trim(), { signal: AbortSignal.timeout(30_000) });
    const maintainer = (await loadCredentials(a.home)).signer.did;
    await joined.perform(Commands.repoCreate, { repo: "weft", defaultBranch: "main", maintainers: [maintainer] });
    repo = await mkdtemp(join(tmpdir(), "weft-patch-repo-"));
    const g = (...args: string[]) => git("git", ["-C", repo, ...args]).then((r) => r.stdout.trim());
    await g("init", "-q", "-b", "main");
    await g("config", "user.email", "ada@example.org");
    await g("config", "user.name", "Ada");
    await writeFile(join(repo, "a.ts"), "export const a = 1;\n");
    await g("add", ".");
    await g("commit", "-q", "-m", "base");
    base = await g("rev-parse", "HEAD");
    await writeFile(join(repo, "a.ts"), "export const a = 2;\n");
    await g("commit", "-q", "-am", "fix the flaky test");
    head = await g("rev-parse", "HEAD");
    await writeFile(join(repo, "..", `${repo.split("/").pop()}.wasm`), (await buildSamples()).sleep.component);
    program = (await new ArtifactClient(apiA).upload(space, join(repo, "..", `${repo.split("/").pop()}.wasm`), {
      hashing() {},
      sending() {},
    })).cid;
  });
  after(async () => {
    await member?.node.stop();
    await Promise.all([a, b].map((p) => p && stopPeer(p)));
    if (repo) await rm(repo, { recursive: true, force: true });
    if (repo) await rm(`${repo}.wasm`, { force: true });
  });

  const patchAt = (api: ApiClient, id: string) =>
    api.get<Patch>(`/v1/spaces/${enc(space)}/patches/${id}`).catch(() => undefined);

  /** A run of the head commit, placed by the mesh: the `sleep` sample with `arg` (a number passes, a word fails). */
  async function run(arg: string): Promise<Pod> {
    const spec = {
      runner: "wasm",
      program,
      args: [arg],
      inputs: [],
      env: [],
      limits: { wallMs: 30_000, memoryMb: 32, outputBytes: 1 << 20 },
      source: { cid: program, commit: head },
    };
    const pod = await apiA.op<"create", Pod>(space, "create", { task: newTaskId(), title: "tests", run: spec }, {
      path: `/v1/spaces/${enc(space)}/schedule`,
    });
    return (await eventually(
      async () => {
        const p = await apiA.get<Pod>(`/v1/spaces/${enc(space)}/pods/${pod.task}`);
        return p.state === "failed" || p.state === "succeeded" ? p : undefined;
      },
      90_000,
      "the run finished",
    ))!;
  }

  /** The heads of the space's log on a peer, as its API reports them. */
  async function headsAt(api: ApiClient): Promise<string[]> {
    const path = `/v1/spaces/${enc(space)}`;
    const res = await fetch(api.url + path, { headers: { authorization: `Bearer ${await api.bearer("GET", path)}` } });
    await res.body?.cancel();
    return (res.headers.get(HEADS_HEADER) ?? "").split(",");
  }

  it("proposed on one peer, reviewed on another, merged only after its run passes", async () => {
    const proposed = JSON.parse(
      (await weftRaw(
        a,
        "patch",
        "propose",
        "Fix the flaky test",
        "--repo",
        "weft",
        "--base",
        base,
        "--head",
        head,
        "--space",
        space,
        "--json",
      )).out,
    ) as Patch;
    const id = proposed.id;
    await eventually(() => patchAt(apiB, id), 20_000, "the patch on b");
    const reviewed = await weftRaw(
      b,
      "patch",
      "review",
      id,
      "--approve",
      "--line",
      "a.ts:1:good catch",
      "--space",
      space,
    );
    assert.equal(reviewed.code, 0, reviewed.out);

    const missing = await weftRaw(a, "patch", "merge", id, "--space", space);
    assert.notEqual(missing.code, 0);
    assert.match(missing.out, /check tests missing: needs a passing run on the head commit/);

    const failed = await run("soon");
    assert.equal(failed.state, "failed");
    const refused = await weftRaw(a, "patch", "merge", id, "--space", space);
    assert.notEqual(refused.code, 0);
    assert.match(refused.out, new RegExp(`check tests failed: task ${failed.task} ended failed`));

    // A member forges merges past the gate: every peer refuses them, and the patch stays open.
    const t = member;
    const patch = await eventually(() => joined.log.state<PatchReducer>("patch").patches.get(id));
    const chain = joined.authority.chainsFor(t.node.did, Commands.patchMerge, Math.floor(Date.now() / 1000))[0];
    const seen = joined.log.heads(); // both forged merges name the same past: neither follows the other
    const forge = async (evidence: Uint8Array[]) => {
      const inv = await invoke({
        issuer: t.node.signer,
        subject: space,
        command: PATCH_OPS.merge.command,
        args: {
          patch: id,
          revision: patch!.revisions[0].id,
          onto: "0".repeat(40),
          commit: head,
          strategy: "fast-forward",
          evidence,
          at: [Date.now(), 0],
          after: seen,
        } as unknown as Record<string, Ipld>,
        proofs: chain,
        expiration: null,
      });
      await injectOp(t, joined, inv.bytes, inv.cid.toString());
      return inv.cid.toString();
    };
    // It signs a "passing" manifest for the failed run itself: it holds /weft/run, so the manifest verifies,
    // but the task log records another result for that task.
    const selfSigned = await signedRun(t.node.signer, chain.filter((d) => d.cmd === "/weft" || d.cmd === "/"), {
      space,
      task: failed.task,
      spec: (await apiA.get<{ run: never }>(`/v1/spaces/${enc(space)}/tasks/${failed.task}`)).run,
      status: "succeeded",
      endedAt: Date.now() - 1000,
    });
    const forged = [await forge([]), await forge([selfSigned.bytes])];
    for (const api of [apiA, apiB]) {
      // Nobody builds on them before the next run: both stay heads of the log once a peer holds them.
      await eventually(
        async () => {
          const heads = await headsAt(api);
          return forged.every((f) => heads.includes(f));
        },
        20_000,
        "the forged merges arrived",
      );
      assert.equal((await patchAt(api, id))?.status, "open");
    }

    const passed = await run("0");
    assert.equal(passed.state, "succeeded", passed.summary);
    const merged = await weftRaw(a, "patch", "merge", id, "--space", space);
    assert.equal(merged.code, 0, merged.out);
    assert.match(merged.out, new RegExp(`merged ${id}: refs/heads/main → ${head}`));
    for (const api of [apiA, apiB]) {
      const p = await eventually(
        async () => {
          const x = await patchAt(api, id);
          return x?.status === "merged" ? x : undefined;
        },
        20_000,
        "merged everywhere",
      );
      assert.equal(p!.merge!.commit, head);
      assert.equal(p!.merge!.checks[0].run?.task, passed.task);
    }
    const shown = await weftRaw(b, "patch", "show", id, "--space", space);
    assert.match(shown.out, /a\.ts:1: good catch/);
    assert.match(shown.out, /✓ tests: passed/);
  });

  it("lets a key holding only /weft/patch/propose propose, and refuses its merge", async () => {
    const key = await signer();
    const r = await apiA.request<{ cid: string; container: string }>(
      "POST",
      `/v1/spaces/${enc(space)}/capabilities`,
      { audience: key.did, command: Commands.patchPropose, name: "agent", kind: "agent" },
    );
    const last = await delegationIn(r.container, r.cid);
    const creds = await loadCredentials(a.home);
    const { spaces } = await apiA.get<{ spaces: Array<{ id: string; chain: string[] }> }>("/v1/spaces");
    const agent = new Client(
      { url: creds.url, node: creds.node, signer: key, nodeDelegation: last, powerline: last },
      creds.url,
      { [space]: spaces.find((s) => s.id === space)!.chain },
    );
    const p = await agent.patchOp<"propose", Patch>(space, "propose", {
      patch: newTaskId(),
      repo: "weft",
      target: "refs/heads/main",
      base,
      head,
      title: "from an agent",
    });
    assert.equal(p.author, key.did);
    await assert.rejects(
      agent.patchOp(space, "merge", {
        patch: p.id,
        revision: p.revisions[0].id,
        onto: "0".repeat(40),
        commit: head,
        strategy: "fast-forward",
        evidence: [],
      }),
      (e: { status: number }) => e.status === 403,
    );
    assert.equal((await patchAt(apiA, p.id))?.status, "open");
  });
});
