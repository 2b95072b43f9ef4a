/**
 * The spending gate from the agent's side, on a real space: with the
 * space's gate at a threshold, a reservation past it is refused unless it
 * names a person's approval; the budget hook's `approveSpend` asks for one
 * (requestApproval: the plan and its hash, signed by the agent) and waits
 * on the space's events, and the reservation then lands naming it. A
 * denial fails the reservation with the person's reason; a reservation
 * under the threshold asks no one.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { memoryNode } from "../helpers/nodes.ts";
import { generateSeed } from "../../protocol/identity/ed25519.ts";
import { nativeSigner } from "../../peer/crypto/native-signer.ts";
import { Commands } from "../../protocol/ucan/commands.ts";
import { AgentKillSwitch, AgentSpending } from "../../protocol/agents/index.ts";
import { needsApproval, requestApproval } from "../../peer/agents/request-approval.ts";

async function world() {
  const a = await memoryNode();
  const space = await a.node.createSpace("gated spending");
  const agent = nativeSigner(generateSeed());
  await space.invite({ audience: agent.did, command: Commands.agent, kind: "agent", name: "agent ada" });
  await space.invite({ audience: agent.did, command: Commands.task, kind: "agent", name: "agent ada" });
  await space.perform(Commands.approvalGates, { spendUsd: 1000 });
  const kill = new AgentKillSwitch(space, agent.did);
  const asked: number[] = [];
  /** The hook as the loop gives it, with a person on this node answering each request as `answer` says. */
  const spending = (task: string, answer?: "approve" | "deny") =>
    new AgentSpending({
      space,
      signer: agent,
      task,
      kill,
      ...(answer
        ? {
          approveSpend: async (to: number) => {
            // As the loop's gated steps do: ask only where the gate holds the reservation back.
            if (!needsApproval(space, { kind: "spend", to })) return undefined;
            asked.push(to);
            const approval = await requestApproval(space, agent, { kind: "spend", upToUsd: to, plan: `up to ${to}` }, {
              onRequest: (request, hash) =>
                void space.perform(
                  answer === "approve" ? Commands.approvalApprove : Commands.approvalDeny,
                  answer === "approve"
                    ? { request, hash, expires: Date.now() + 3_600_000 }
                    : { request, hash, reason: "too dear" },
                ),
            });
            return approval.approval;
          },
        }
        : {}),
    });
  return { a, space, agent, kill, spending, asked };
}

describe("the spending gate, from the agent's budget hook", () => {
  it("past the threshold: refused without an approval, let through once a person approves", async () => {
    const w = await world();
    try {
      const task = (await w.space.createTask({ title: "costly" })).id;
      await assert.rejects(w.spending(task).reserve({ usd: 5000, tokens: 10 }), /needs a person's approval/);
      const r = await w.spending(task, "approve").reserve({ usd: 5000, tokens: 10 });
      assert.deepEqual(w.asked, [5000]);
      const op = w.space.log.op(r.id) as { args: { approval?: string } };
      assert.ok(op.args.approval, "the reservation names the approval");
      assert.equal(w.space.log.outcome(r.id)?.applied, true);
    } finally {
      w.kill.close();
      await w.a.node.stop();
    }
  });

  it("a denial fails the reservation with the person's reason; under the threshold, no one is asked", async () => {
    const w = await world();
    try {
      const task = (await w.space.createTask({ title: "costly" })).id;
      await assert.rejects(w.spending(task, "deny").reserve({ usd: 5000, tokens: 10 }), /denied request .*: too dear/);
      await w.spending(task, "deny").reserve({ usd: 10, tokens: 10 });
      assert.deepEqual(w.asked, [5000], "no one was asked for 10");
    } finally {
      w.kill.close();
      await w.a.node.stop();
    }
  });
});
