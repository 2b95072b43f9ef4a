/**
 * How an agent's pass ends well: the tested commit pushed as the agent
 * (after a person's approval where the space gates pushes), the transcript
 * stored as an artifact, a patch proposed with signed provenance (model,
 * provider, tokens, cost, transcript, the passing run), and the task's
 * result recorded, which ends its lease.
 */
import { newTaskId, type Space } from "#protocol/space";
import { zeroId } from "#protocol/repo";
import { Commands } from "#protocol/ucan";
import type { AgentRecord, PeerAgents } from "../peer-agents.ts";
import type { AgentLoopDeps } from "./agent-loop.ts";
import type { GatedSteps } from "./gated-steps.ts";
import { end, LoopEnded, type LoopStatus, timed } from "./loop-status.ts";
import type { Picked } from "./pick-task.ts";
import type { TaskLease } from "./task-lease.ts";
import type { TestRunResult } from "./test-runs.ts";
import type { Workspace } from "./workspace.ts";

/** Push the tested commit as the agent, store the transcript, propose the patch, and record the task's result. */
export async function proposePatch(
  deps: Pick<AgentLoopDeps, "artifacts" | "repos">,
  space: Space,
  signer: Awaited<ReturnType<PeerAgents["signer"]>>,
  record: AgentRecord,
  picked: Picked,
  work: Workspace,
  passed: TestRunResult,
  summary: string,
  usage: { inputTokens: number; outputTokens: number; costMicroUsd: number; model: string; provider: string },
  status: LoopStatus,
  lease: TaskLease,
  labels: string[],
  gated: GatedSteps,
): Promise<LoopStatus> {
  const ref = `refs/heads/agent/${record.name}/${picked.task.id}`;
  const approval = await gated.approval({ kind: "push", refs: [ref] }, async () => ({
    kind: "push",
    refs: [ref],
    plan: `Push ${passed.commit} to ${ref} of repository ${picked.repo} and propose it as a patch onto ` +
      `${picked.target} (base ${picked.base}), for task ${picked.task.id}: ${picked.task.title}\n` +
      `Agent: ${record.name} (${record.did}). The tests passed on this commit in run ${passed.task}.\n\n` +
      `The change, in full:\n${(await work.diff()).slice(0, 48 * 1024)}`,
  }));
  await timed(
    status,
    "pushing",
    () => pushCommit(deps.repos, space, signer, picked.repo, ref, work, passed.commit, approval),
  );
  const patch = await timed(status, "proposing", async () => {
    const transcript = new TextEncoder().encode(
      JSON.stringify({ task: picked.task.id, messages: status.transcript }),
    );
    const stored = await deps.artifacts.put(space.id, [transcript]);
    const patch = newTaskId();
    await space.perform(Commands.patchPropose, {
      patch,
      repo: picked.repo,
      target: picked.target,
      base: picked.base,
      head: passed.commit,
      title: picked.task.title.slice(0, 200),
      description: `${summary.slice(0, 30_000)}\n\nTests passed in run ${passed.task}.`,
      tasks: [picked.task.id],
      provenance: {
        model: usage.model,
        provider: usage.provider,
        inputTokens: usage.inputTokens,
        outputTokens: usage.outputTokens,
        costMicroUsd: usage.costMicroUsd,
        turns: status.turn,
        transcript: stored.cid,
        run: passed.task,
      },
    }, signer);
    // The result ends the lease: stop renewing it and watching for its loss first.
    lease.close();
    await space.actAs(signer, "result", {
      task: picked.task.id,
      fence: lease.fence,
      outcome: "success",
      summary: `proposed patch ${patch} (${ref}); tests passed in run ${passed.task}`,
      labels,
    });
    return patch;
  });
  // After timed() has counted the proposing step, so the view shows it.
  return end(status, { kind: "proposed", patch });
}

/** The commit's objects into the bare repository's quarantine, then the signed push; admitted only once it applied. */
async function pushCommit(
  repos: AgentLoopDeps["repos"],
  space: Space,
  signer: Parameters<Space["perform"]>[2],
  repo: string,
  ref: string,
  work: Workspace,
  commit: string,
  approval: string | undefined,
) {
  const path = (await repos.repos.existing(space.id, repo))!;
  const pack = await work.pack(commit);
  const quarantine = await repos.repos.quarantine(
    path,
    (async function* () {
      yield pack;
    })(),
  );
  try {
    const { cid } = await space.perform(
      Commands.repoPush,
      { repo, updates: [{ ref, old: zeroId(commit), new: commit }], ...(approval ? { approval } : {}) },
      signer,
    );
    const outcome = space.log.outcome(cid);
    if (outcome && !outcome.applied) throw new LoopEnded(`the push of ${ref} was refused: ${outcome.reason}`);
  } catch (e) {
    await repos.repos.discard(path, quarantine);
    throw e;
  }
  await repos.repos.admit(path, quarantine);
  await repos.sync(space, repo);
}
