/**
 * The space's agents as the Agents view shows them, computed in the
 * browser from the space's own signed state, the same on every node and
 * offline: the delegations made to each agent (what it holds, in plain
 * words, and whether they were revoked or lapsed), the spend ledger every
 * node reduces (spent, reserved, left, per task), its pause, the task it
 * holds a lease on now, the newest run it created, and the approval
 * requests it waits on. Only what the space cannot know — the running
 * loop's transcript, in the memory of the peer that runs the agent — is
 * read from that peer (ui/agents/use-loop.ts).
 *
 * The actions are signed here with this browser's own key and checked by
 * its verifier like any operation before they are written: pause and
 * resume are agent operations, approve and deny name the request's plan
 * hash. Revoking is a UCAN revocation, which only an issuer in the agent's
 * chain may sign: this browser signs it itself when it stands in that
 * chain, and otherwise asks the peer that served it (the usual maker of
 * agents) with a request signed here under /weft/space/admin, which that
 * peer checks like any caller's.
 */
import { WeftError } from "#protocol";
import {
  type AgentHoldings,
  agentHoldings,
  budgetLeft,
  checkAgentOptions,
  parseUsd,
  tasksSpentOnBy,
} from "#protocol/agents";
import { APPROVAL_FAMILY, type ApprovalReducer, type ApprovalRequest } from "#protocol/approvals";
import { neutralized } from "#protocol/schema";
import type { Space } from "#protocol/space";
import { effectiveStatus, type Pause, type Spend, type Task } from "#protocol/tasks";
import { type Budget, Commands, type Delegation } from "#protocol/ucan";
import { type ApiSigner, refusalOf, signedFetch } from "../node/api-request.ts";
import { can } from "./can.ts";

export type AgentState = "active" | "paused" | "revoked" | "expired";

export interface AgentSummary {
  did: string;
  /** The name its delegations carry ("agent fixer" → "fixer"). */
  name: string;
  /** Who made it: the issuer of its delegations (the peer it runs on, usually). */
  by: string;
  holds: AgentHoldings;
  state: AgentState;
  pause?: Pause;
  spend: Spend;
  left: Budget;
  /** The tasks it spent on, each with what this agent spent on it (not other agents' calls on the task). */
  tasks: { task: Task; spend: Spend }[];
  /** The task it holds a lease on now. */
  current?: Task;
  /** The newest run task it created (its tests). */
  run?: Task;
  /** Its requests waiting for a person's answer, oldest first. */
  waiting: ApprovalRequest[];
  delegations: Delegation[];
}

/** Every agent the space has delegated to, active first, by name. */
export function agentsOf(space: Space, nowMs = Date.now()): AgentSummary[] {
  const byDid = new Map<string, Delegation[]>();
  for (const d of space.authority.delegations) {
    if (d.meta?.kind !== "agent") continue;
    byDid.set(d.aud, [...(byDid.get(d.aud) ?? []), d]);
  }
  const now = Math.floor(nowMs / 1000);
  const spend = space.log.reducer.spend;
  const tasks = [...space.log.reducer.tasks.values()];
  const requests = [...space.log.state<ApprovalReducer>(APPROVAL_FAMILY).requests.values()];
  const order: Record<AgentState, number> = { active: 0, paused: 1, expired: 2, revoked: 3 };
  return [...byDid].map(([did, all]): AgentSummary => {
    const live = all.filter((d) => !space.authority.isRevoked(d.cid));
    const holds = agentHoldings(live.length > 0 ? live : all);
    const pause = spend.paused(did);
    const mine = spend.agent(did);
    const state: AgentState = live.length < all.length
      ? "revoked"
      : holds.expires !== null && holds.expires <= now
      ? "expired"
      : pause
      ? "paused"
      : "active";
    const named = all.map((d) => d.meta?.name).find((n): n is string => typeof n === "string");
    // Names come from the network: control characters shown as such, and not too long to lay out.
    const runs = tasks.filter((t) => t.run && t.creator === did);
    return {
      did,
      name: named ? neutralized(named.replace(/^agent /, "")).slice(0, 64) : did,
      by: all[0].iss,
      holds,
      state,
      ...(pause ? { pause } : {}),
      spend: mine,
      left: budgetLeft(holds.budget, mine),
      tasks: tasksSpentOnBy(tasks, did).map((task) => ({ task, spend: spend.agentTask(did, task.id) })),
      current: tasks.find((t) =>
        !t.run && t.lease?.holder === did && ["claimed", "running"].includes(effectiveStatus(t, nowMs))
      ),
      run: runs.sort((a, b) => b.createdAt[0] - a.createdAt[0] || b.createdAt[1] - a.createdAt[1])[0],
      waiting: requests.filter((r) => r.author === did && r.status === "pending")
        .sort((a, b) => a.at[0] - b.at[0] || a.at[1] - b.at[1]),
      delegations: all,
    };
  }).sort((a, b) => order[a.state] - order[b.state] || a.name.localeCompare(b.name));
}

/** Every request waiting for a person's answer in the space, oldest first. */
export function pendingRequests(space: Space): ApprovalRequest[] {
  return [...space.log.state<ApprovalReducer>(APPROVAL_FAMILY).requests.values()]
    .filter((r) => r.status === "pending")
    .sort((a, b) => a.at[0] - b.at[0] || a.at[1] - b.at[1]);
}

/** Micro-USD as dollars, exact: cents when it is whole cents ("$5.00"), else to the micro-dollar ("$0.99972"). */
export function usd(micro: number): string {
  const dollars = (micro / 1_000_000).toFixed(6);
  return `$${micro % 10_000 === 0 ? dollars.slice(0, -4) : dollars.replace(/0+$/, "")}`;
}

/** A budget in words: "$5.00 and 100000 tokens, $1.00 a day". */
export function budgetWords(b: Budget): string {
  const parts = [
    b.usd !== undefined ? usd(b.usd) : "",
    b.tokens !== undefined ? `${b.tokens.toLocaleString("en")} tokens` : "",
  ].filter(Boolean);
  const total = parts.length > 0 ? parts.join(" and ") : "no bound of its own";
  return b.dayUsd !== undefined ? `${total}, ${usd(b.dayUsd)} a day` : total;
}

/** Why this browser may not pause or resume an agent, or undefined if it may. */
export function pauseBlocker(space: Space, me: string, kind: "pause" | "resume"): string | undefined {
  const command = kind === "pause" ? Commands.agentPause : Commands.agentResume;
  return can(space, me, command) ? undefined : `your delegation in this space does not include ${command}`;
}

/** Why this browser may not answer approval requests, or undefined if it may. */
export function answerBlocker(space: Space, me: string): string | undefined {
  return can(space, me, Commands.approvalApprove)
    ? undefined
    : `your delegation in this space does not include ${Commands.approvalApprove}`;
}

/** Why this browser may not revoke an agent, or undefined if it may (itself, or through the peer). */
export function revokeBlocker(space: Space, me: string, agent: AgentSummary): string | undefined {
  if (agent.state === "revoked") return "its delegations are revoked already";
  if (revocableHere(space, me, agent)) return undefined;
  return can(space, me, Commands.spaceAdmin)
    ? undefined
    : `revoking an agent needs ${Commands.spaceAdmin}, or a place in its chain, and your delegation has neither`;
}

/** Does this browser stand in the chain of every live delegation to the agent (so it may sign their revocations)? */
function revocableHere(space: Space, me: string, agent: AgentSummary): boolean {
  const live = agent.delegations.filter((d) => !space.authority.isRevoked(d.cid));
  return live.length > 0 && live.every((d) => space.authority.pathTo(d)?.some((link) => link.iss === me) ?? false);
}

/** Pause or resume `agent`, signed here; every node refuses its later operations while it is paused. */
export function setPaused(space: Space, agent: string, paused: boolean, reason?: string): Promise<void> {
  return space.agentOp(paused ? "pause" : "resume", { agent, ...(paused && reason ? { reason } : {}) });
}

/**
 * Revoke every live delegation to `agent`: signed here if this browser may,
 * else by the peer at `origin` on this browser's signed request.
 */
export async function revokeAgent(space: Space, me: ApiSigner, agent: AgentSummary, origin: string): Promise<void> {
  if (revocableHere(space, me.did, agent)) {
    for (const d of agent.delegations) {
      if (!space.authority.isRevoked(d.cid)) await space.revoke(d.cid.toString());
    }
    return;
  }
  const path = `/v1/spaces/${encodeURIComponent(space.id)}/agents/${encodeURIComponent(agent.did)}`;
  const r = await signedFetch({ me, space, origin, command: Commands.spaceAdmin, method: "DELETE", path });
  if (!r.ok) {
    throw new WeftError(
      "Forbidden",
      "cap/not-held",
      `the peer at ${origin} refused to revoke ${agent.name}: ${await refusalOf(r) ?? r.status}`,
    );
  }
}

/** How long an approval given here stays usable, by default. */
export const APPROVAL_MS = 60 * 60_000;

/** Approve `request`, naming the hash of the plan shown; usable for `forMs`. */
export async function approve(space: Space, request: ApprovalRequest, forMs = APPROVAL_MS): Promise<void> {
  const { cid } = await space.perform(Commands.approvalApprove, {
    request: request.id,
    hash: request.hash,
    expires: Date.now() + forMs,
  });
  refusedIfSo(space, cid, `your approval of ${request.id}`);
}

/** Deny `request`, naming the hash of the plan shown, saying why. */
export async function deny(space: Space, request: ApprovalRequest, reason: string): Promise<void> {
  const { cid } = await space.perform(Commands.approvalDeny, {
    request: request.id,
    hash: request.hash,
    ...(reason ? { reason } : {}),
  });
  refusedIfSo(space, cid, `your denial of ${request.id}`);
}

/** An answer the log took but its reduction refused (answered first elsewhere, say): the reason. */
function refusedIfSo(space: Space, cid: string, what: string): void {
  const outcome = space.log.outcome(cid);
  if (outcome && !outcome.applied) {
    throw new WeftError("Conflict", "task/conflict", `${what} was not applied: ${outcome.reason}`);
  }
}

/** The runner kinds the form offers (`/weft/run/<kind>`). */
export const RUNNER_KINDS = ["container", "nix", "wasm", "kubernetes"] as const;

/** What the dashboard's form asks for a new agent, as typed. */
export interface AgentForm {
  name: string;
  /** Comma- or space-separated. */
  labels: string;
  runners: string[];
  /** Money as people write it: 5, $5, 0.25usd. */
  budget: string;
  /** Unix seconds when its delegations lapse (null: never). */
  expiration: number | null;
  /** The serving peer's daemon runs its loop by itself. */
  run: boolean;
}

/** The request the form makes, checked as the peer checks it (throws InvalidInput saying what to fix). */
export function agentRequest(form: AgentForm) {
  const request = {
    name: form.name.trim(),
    labels: form.labels.split(/[\s,]+/).filter(Boolean),
    runners: form.runners,
    budget: { usd: parseUsd(form.budget) },
    ...(form.expiration !== null ? { expiration: form.expiration } : {}),
    ...(form.run ? { run: true } : {}),
  };
  checkAgentOptions(request);
  return request;
}

/** Why this browser may not make an agent, or undefined if it may. */
export function addBlocker(space: Space, me: string): string | undefined {
  return can(space, me, Commands.spaceAdmin)
    ? undefined
    : `making an agent needs ${Commands.spaceAdmin}, and your delegation does not include it`;
}

/**
 * Make an agent on the peer that served this page, which keeps its key
 * (a 0600 file there, never replicated): asked with a request signed here
 * under /weft/space/admin, whose delegations that peer bounds by this
 * browser's own, as it does for `weft agent add`.
 */
export async function addAgent(
  space: Space,
  me: ApiSigner,
  origin: string,
  request: ReturnType<typeof agentRequest>,
): Promise<{ did: string }> {
  const path = `/v1/spaces/${encodeURIComponent(space.id)}/agents`;
  const body = new TextEncoder().encode(JSON.stringify(request));
  const r = await signedFetch({ me, space, origin, command: Commands.spaceAdmin, method: "POST", path, body });
  if (!r.ok) {
    throw new WeftError(
      "Forbidden",
      "cap/not-held",
      `the peer at ${origin} did not make ${request.name}: ${await refusalOf(r) ?? r.status}`,
    );
  }
  return await r.json() as { did: string };
}
