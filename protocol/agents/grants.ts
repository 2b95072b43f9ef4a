/**
 * What an agent may do, as the delegations a person gives it: one per
 * command, each attenuated by a UCAN policy, so every node checks the
 * agent's operations against them like anyone's. An agent claims only
 * tasks carrying one of its labels, comments, pushes only under
 * `refs/heads/agent/<name>/`, proposes patches (never merges), runs only
 * its runner kinds (creating run tasks, and no other tasks, for its tests),
 * spends only within its budget (ucan/budget.ts), and asks a person to
 * approve what the space's gates hold back (approvals/).
 */
import { InvalidInput } from "../schema/input-checks.ts";
import { type Budget, BUDGET_FIELDS, budgetPolicy, MAX_AMOUNT } from "../ucan/budget.ts";
import { Commands } from "../ucan/commands.ts";
import type { Ipld } from "../ucan/policy/ipld.ts";
import { refPolicy } from "../repo/ref-policy.ts";

/** An agent's name: it names its key file and its branch namespace. */
export const AGENT_NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;
const LABEL = /^[^\s,]{1,64}$/;
const RUNNER_KIND = /^[a-z0-9-]{1,32}$/;

export interface AgentGrantOptions {
  name: string;
  /** It may claim tasks carrying any of these labels (at least one). */
  labels: readonly string[];
  /** Runner kinds it may run jobs on (`/weft/run/<kind>`). */
  runners: readonly string[];
  /** The most it may spend; at least `usd` or `tokens`. */
  budget: Budget;
}

/** One delegation to make: a command and its policy. */
export interface AgentGrant {
  command: string;
  policy: Ipld[];
}

/** The ref namespace an agent may push to. */
export const agentRefs = (name: string) => `refs/heads/agent/${name}/*`;

/** Check what a person asks to give an agent; throws InvalidInput saying what to fix. */
export function checkAgentOptions(o: AgentGrantOptions): void {
  if (!AGENT_NAME.test(o.name)) {
    throw new InvalidInput("name", `an agent's name is lowercase letters, digits and '-', at most 32 (${AGENT_NAME})`);
  }
  if (o.labels.length === 0 || o.labels.length > 32) {
    throw new InvalidInput("labels", "give 1 to 32 labels: the agent claims only tasks carrying one of them");
  }
  for (const l of o.labels) if (!LABEL.test(l)) throw new InvalidInput("labels", `${JSON.stringify(l)} is not a label`);
  if (o.runners.length > 16) throw new InvalidInput("runners", "at most 16 runner kinds");
  for (const r of o.runners) {
    if (!RUNNER_KIND.test(r)) throw new InvalidInput("runners", `${JSON.stringify(r)} is not a runner kind`);
  }
  if (o.budget.usd === undefined && o.budget.tokens === undefined) {
    throw new InvalidInput("budget", "an agent needs a budget: money (--budget 5usd) or tokens (--tokens N)");
  }
  for (const f of BUDGET_FIELDS) {
    const n = o.budget[f];
    if (n !== undefined && (!Number.isSafeInteger(n) || n < 0 || n > MAX_AMOUNT)) {
      throw new InvalidInput(`budget.${f}`, "must be a whole number, 0 or more");
    }
  }
}

/** The delegations that make an agent what `o` says. */
export function agentGrants(o: AgentGrantOptions): AgentGrant[] {
  checkAgentOptions(o);
  const anyLabel: Ipld = ["any", ".labels", ["or", o.labels.map((l) => ["==", ".", l])]];
  return [
    { command: Commands.taskClaim, policy: [anyLabel] },
    { command: Commands.taskComment, policy: [] },
    { command: Commands.repoPush, policy: refPolicy([agentRefs(o.name)]) },
    { command: Commands.patchPropose, policy: [] },
    { command: Commands.approvalRequest, policy: [] },
    ...o.runners.map((kind) => ({ command: `${Commands.run}/${kind}`, policy: [] })),
    // Its test runs are tasks it creates: run tasks only, never plain work for others.
    ...(o.runners.length > 0
      ? [{ command: Commands.taskCreate, policy: [["not", ["==", ".run", null]]] as Ipld[] }]
      : []),
    { command: Commands.taskSpend, policy: budgetPolicy(o.budget) },
  ];
}

/**
 * Parse an amount of money as people write it ("5usd", "$5", "0.25usd",
 * "1500000musd" in micro-USD) into micro-USD.
 */
export function parseUsd(text: string): number {
  const m = /^\s*\$?\s*(\d+(?:\.\d{1,6})?)\s*(usd|musd)?\s*$/i.exec(text);
  if (!m) throw new InvalidInput("budget", `${JSON.stringify(text)} is not an amount: write 5usd, 0.25usd or $5`);
  if (m[2]?.toLowerCase() === "musd") {
    if (m[1].includes(".")) throw new InvalidInput("budget", "micro-USD are whole numbers");
    return Number(m[1]);
  }
  const [whole, frac = ""] = m[1].split(".");
  const micro = Number(whole) * 1_000_000 + Number(frac.padEnd(6, "0"));
  if (!Number.isSafeInteger(micro)) throw new InvalidInput("budget", "that amount is too large");
  return micro;
}
