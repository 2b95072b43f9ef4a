/**
 * The agent's lease on its task (peer/agents/loop/task-lease.ts), on a
 * real space with the agent's own key under its delegation: renewed while
 * the loop works, so it outlives many lease lengths; lost — its signal
 * aborting with the reason — the moment the task is cancelled, a renewal
 * is refused (the agent paused), or it is no longer the agent's; and taken
 * up again after a restart only while the agent still holds it.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { eventually, memoryNode } from "../helpers/nodes.ts";
import { generateSeed } from "../../protocol/identity/ed25519.ts";
import { nativeSigner } from "../../peer/crypto/native-signer.ts";
import { Commands } from "../../protocol/ucan/commands.ts";
import { effectiveStatus } from "../../protocol/tasks/index.ts";
import { TaskLease } from "../../peer/agents/loop/task-lease.ts";

async function world() {
  const a = await memoryNode();
  const space = await a.node.createSpace("leases");
  const agent = nativeSigner(generateSeed());
  await space.invite({ audience: agent.did, command: Commands.task, kind: "agent", name: "agent ada" });
  const task = await space.createTask({ title: "slow work", labels: ["bug"] });
  const current = () => space.log.reducer.tasks.get(task.id)!;
  return { a, space, agent, task, current };
}

const renewals = (t: { history: { kind: string }[] }) => t.history.filter((h) => h.kind === "renew").length;

describe("the agent's task lease", () => {
  it("is renewed while the agent works, well past its length", async () => {
    const { a, space, agent, current } = await world();
    const lease = await TaskLease.claim(space, agent, current(), ["bug"], 1200);
    try {
      // Three renewals take about one lease length; six, two: unrenewed, it would have lapsed.
      await eventually(() => renewals(current()) >= 6, 20_000, "six renewals");
      assert.equal(effectiveStatus(current(), Date.now()), "claimed");
      assert.equal(current().lease?.holder, agent.did);
      assert.equal(current().lease?.fence, lease.fence);
      assert.equal(lease.signal.aborted, false);
      assert.ok(lease.expires > Date.now());
    } finally {
      lease.close();
      await a.node.stop();
    }
  });

  it("is lost at once when the task is cancelled", async () => {
    const { a, space, agent, current } = await world();
    const lease = await TaskLease.claim(space, agent, current(), ["bug"], 60_000);
    try {
      const lost = new Promise((resolve) => lease.signal.addEventListener("abort", resolve, { once: true }));
      await space.act("cancel", { task: current().id });
      await lost;
      assert.match((lease.signal.reason as Error).message, /lost its lease on task .*: the task is cancelled/);
    } finally {
      lease.close();
      await a.node.stop();
    }
  });

  it("is lost when a renewal is refused: the agent was paused", async () => {
    const { a, space, agent, current } = await world();
    const lease = await TaskLease.claim(space, agent, current(), ["bug"], 1200);
    try {
      await space.agentOp("pause", { agent: agent.did, reason: "stop it" });
      await eventually(() => lease.signal.aborted, 10_000, "the lease lost");
      assert.match((lease.signal.reason as Error).message, /the renewal was refused/);
    } finally {
      lease.close();
      await a.node.stop();
    }
  });

  it("after a restart, is taken up only while the agent still holds it", async () => {
    const { a, space, agent, current } = await world();
    const first = await TaskLease.claim(space, agent, current(), ["bug"], 60_000);
    first.close(); // the peer stopped: nothing renews it, nothing released it
    try {
      const again = await TaskLease.adopt(space, agent, current(), ["bug"], 60_000);
      assert.equal(again.fence, first.fence);
      assert.equal(renewals(current()), 1, "taken up by a renewal, not a new claim");
      again.close();
      // Someone else's lease is not theirs to take up.
      const other = nativeSigner(generateSeed());
      await assert.rejects(TaskLease.adopt(space, other, current(), ["bug"], 60_000), /is not held by/);
      await assert.rejects(TaskLease.claim(space, agent, current(), ["bug"], 500), /a lease runs 1 s to/);
    } finally {
      await a.node.stop();
    }
  });
});
