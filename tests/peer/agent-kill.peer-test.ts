/**
 * The kill switch reaches jobs: an agent's long-running job (a real WASM
 * sleep on a real runner) is stopped within seconds on the node running it
 * when a person pauses the agent — or revokes it — from another peer
 * process. The signal is the signed pause or revocation record reaching the
 * running node over the mesh (libp2p between two daemons); the run is recorded in the task as failed,
 * stopped, with the reason; the paused agent's later job is not run.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import process from "node:process";
import { eventually } from "../helpers/nodes.ts";
import { testDaemon } from "../helpers/daemon.ts";
import { sampleSpec } from "../../wasm-runners/samples/build.ts";
import { Commands } from "../../protocol/ucan/commands.ts";
import { OPS } from "../../protocol/tasks/ops.ts";
import { invoke } from "../../protocol/ucan/invocation.ts";
import type { Ipld } from "../../protocol/ucan/policy/ipld.ts";

const run = promisify(execFile);
const CLI = new URL("../../peer/cli/weft.js", import.meta.url).pathname;
const FAST = { WEFT_LEASE_SECONDS: "3", WEFT_ADVERTISE_SECONDS: "2" };

/** The CLI against the peer whose data dir is `home`; its parsed --json output. */
async function cliJson(home: string, ...args: string[]): Promise<unknown> {
  const { stdout } = await run(process.execPath, [CLI, ...args, "--json"], {
    env: { ...process.env, WEFT_HOME: home },
  });
  return JSON.parse(stdout);
}

interface Pod {
  state: string;
  local?: { status?: string; reason?: string };
}

describe("the kill switch reaches jobs", { timeout: 300_000 }, () => {
  it("pausing, then revoking, an agent from another peer stops its running job there, recorded with why", async () => {
    // a: the person's peer (no job slots); b: the peer that runs the agent and its jobs. Two daemons on libp2p.
    const [a, b] = await Promise.all([
      testDaemon({ ...FAST, WEFT_SLOTS: "0" }),
      testDaemon({ ...FAST, WEFT_SLOTS: "1" }),
    ]);
    try {
      const spaceA = a.daemon.node.spaces()[0];
      const space = spaceA.id;
      const invite = (await run(process.execPath, [CLI, "space", "invite", "--to", b.daemon.node.did], {
        env: { ...process.env, WEFT_HOME: a.home },
      })).stdout.trim();
      const address = a.daemon.node.libp2p!.getMultiaddrs()[0].toString();
      await b.client.request("POST", "/v1/spaces/join", { invite, peers: [address] });
      await eventually(() => b.daemon.node.space(space), 15_000, "b joined");
      const agent = await cliJson(
        b.home,
        ...["agent", "add", "fixer", "--labels", "bug", "--budget", "1usd", "--runners", "wasm", "--space", space],
      ) as { did: string };
      // The loop submits its own jobs: it may create tasks, as an agent.
      await spaceA.invite({ audience: agent.did, command: Commands.taskCreate, kind: "agent", name: "agent fixer" });
      const key = await b.daemon.agents.signer("fixer");
      const pod = (task: string) => b.client.get<Pod>(`/v1/spaces/${encodeURIComponent(space)}/pods/${task}`);
      const now = () => Math.floor(Date.now() / 1000);

      /** The agent submits a two-minute job (signed with its own key); it runs on b. */
      const sleepJob = async (task: string) => {
        const spec = await sampleSpec(a.daemon.artifacts.contentStore(), "sleep", {
          args: ["120000"],
          limits: { wallMs: 180_000 },
        });
        const chains = await eventually(
          () => {
            const c = spaceA.authority.chainsFor(agent.did, Commands.taskCreate, now());
            return spaceA.authority.chainsFor(agent.did, Commands.runWasm, now()).length > 0 && c.length > 0
              ? c
              : undefined;
          },
          15_000,
          "a knows the agent's rights",
        );
        const create = await invoke({
          issuer: key,
          subject: space,
          command: OPS.create.command,
          args: {
            task,
            title: "a long test run",
            run: spec as unknown as Ipld,
            at: [Date.now(), 0],
            after: spaceA.log.heads(),
          },
          proofs: chains![0],
          expiration: null,
        });
        await spaceA.submit(create.bytes);
        await eventually(
          async () => (await pod(task).catch(() => undefined))?.state === "running",
          90_000,
          `${task} runs on b`,
        );
      };
      /** The job is recorded as stopped, with why, in the task on a; b's runner stopped it. */
      const stopped = async (task: string, since: number, why: RegExp) => {
        const result = await eventually(
          () => spaceA.task(task)?.results.find((r) => r.outcome === "failure"),
          30_000,
          `${task} recorded as stopped`,
        );
        const ms = Date.now() - since;
        assert.match(result!.summary ?? "", /^stopped: /);
        assert.match(result!.summary ?? "", why);
        assert.equal(spaceA.task(task)?.status, "failed");
        const onB = await eventually(
          async () => {
            const p = await pod(task);
            return p.local?.status !== undefined ? p : undefined;
          },
          15_000,
          "b's run ended",
        );
        assert.equal(onB!.local!.status, "stopped");
        return ms;
      };

      await sleepJob("killjob01");
      const pausedAt = Date.now();
      await cliJson(a.home, "agent", "pause", agent.did, "--reason", "runaway job", "--space", space);
      const pauseMs = await stopped("killjob01", pausedAt, /paused by .*: runaway job/);
      console.log(JSON.stringify({ metric: "pause-to-job-stopped", value: pauseMs, unit: "ms" }));

      // Resumed, its jobs run again; revoked, the running one stops too.
      await cliJson(a.home, "agent", "resume", agent.did, "--space", space);
      await sleepJob("killjob02");
      const revokedAt = Date.now();
      await cliJson(a.home, "agent", "revoke", agent.did, "--space", space);
      const revokeMs = await stopped("killjob02", revokedAt, /does not hold \/weft\/run\/wasm/);
      console.log(JSON.stringify({ metric: "revoke-to-job-stopped", value: revokeMs, unit: "ms" }));
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});
