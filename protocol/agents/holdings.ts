/**
 * What an agent holds, read back from the delegations made to it (grants.ts
 * makes them): the labels of the tasks it may claim, the runner kinds it
 * may run, the refs it may push, its budget, and when its authority ends —
 * and what is left of that budget once its spending (tasks/spend.ts) is
 * counted. Any node can tell this from the space alone, for an agent it
 * runs or one that runs elsewhere; the dashboard and the agent API both
 * show it.
 */
import type { Spend } from "../tasks/spend.ts";
import type { Task } from "../tasks/state.ts";
import { type Budget, budgetOf } from "../ucan/budget.ts";
import { Commands } from "../ucan/commands.ts";
import type { Delegation } from "../ucan/delegation.ts";
import type { Ipld } from "../ucan/policy/ipld.ts";

export interface AgentHoldings {
  /** It claims only tasks carrying one of these. */
  labels: string[];
  /** Runner kinds it may run jobs on. */
  runners: string[];
  /** Ref globs it may push to. */
  pushRefs: string[];
  /** The most it may spend, as its own delegation says (one higher in its chain may say less). */
  budget: Budget;
  /** The commands it holds. */
  commands: string[];
  /** Unix seconds when the first of its delegations ends, or null for none. */
  expires: number | null;
}

/** Every string `s` in statements shaped `[op, selector, s]` anywhere inside `node`. */
function operands(node: Ipld, op: string, selector: string, out: string[] = []): string[] {
  if (!Array.isArray(node)) return out;
  if (node[0] === op && node[1] === selector && typeof node[2] === "string") out.push(node[2]);
  else for (const child of node) operands(child as Ipld, op, selector, out);
  return out;
}

/** What the delegations to an agent (all of them to its DID, live ones) let it do. */
export function agentHoldings(delegations: readonly Delegation[]): AgentHoldings {
  const of = (command: string) => delegations.filter((d) => d.cmd === command);
  const spend = of(Commands.taskSpend)[0];
  return {
    labels: [...new Set(of(Commands.taskClaim).flatMap((d) => operands(d.pol.source as Ipld, "==", ".")))],
    runners: delegations.filter((d) => d.cmd.startsWith(Commands.run + "/")).map((d) =>
      d.cmd.slice(Commands.run.length + 1)
    ),
    pushRefs: [...new Set(of(Commands.repoPush).flatMap((d) => operands(d.pol.source as Ipld, "like", ".ref")))],
    budget: (spend && budgetOf(spend.pol)) ?? {},
    commands: [...new Set(delegations.map((d) => d.cmd))],
    expires: delegations.reduce<number | null>((e, d) => d.exp === null ? e : Math.min(e ?? d.exp, d.exp), null),
  };
}

/** What is left of `budget` after what `spend` spent and holds reserved (never below 0). */
export function budgetLeft(budget: Budget, spend: Spend): Budget {
  const out: Budget = {};
  if (budget.usd !== undefined) out.usd = Math.max(0, budget.usd - spend.spent.usd - spend.reserved.usd);
  if (budget.tokens !== undefined) out.tokens = Math.max(0, budget.tokens - spend.spent.tokens - spend.reserved.tokens);
  return out;
}

/** The tasks an agent reserved or spent money on, in `tasks` (a space's reduced tasks). */
export function tasksSpentOnBy(tasks: Iterable<Task>, did: string): Task[] {
  return [...tasks].filter((t) =>
    t.history.some((h) => h.author === did && (h.kind === "reserve" || h.kind === "settle"))
  );
}
