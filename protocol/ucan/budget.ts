/**
 * Budgets: a caveat in a delegation's policy that bounds what its holder
 * may spend on model calls. A spending operation (`/weft/task/spend/…`)
 * charges three fields in its args — `usd` (micro-USD), `tokens`, and
 * `dayUsd` (its micro-USD again, counted against the UTC day it is dated
 * in) — and a budget is a top-level policy statement `["<=", ".<field>", N]`
 * on one of them. Read as UCAN policy, each statement holds of every single
 * operation (the validator checks that like any policy); read as a budget,
 * every node also holds the SUM of what was reserved under the delegation
 * to it (tasks/spend.ts). A budget only shrinks down a chain: a delegation
 * that lifts a budget its parent set, or raises it, is refused
 * (`narrowsBudget`, checked by the validator on every chain).
 */
import type { Ipld } from "./policy/ipld.ts";
import type { Policy } from "./policy/policy.ts";

/** The fields a spending operation charges, and a budget may bound. */
export const BUDGET_FIELDS = ["usd", "tokens", "dayUsd"] as const;
export type BudgetField = (typeof BUDGET_FIELDS)[number];

/** A budget: the most that may be spent under one delegation, per field (absent: unbounded). */
export type Budget = Partial<Record<BudgetField, number>>;

/** A budget, with the key (cidKey) of the delegation that sets it: what a chain's spending sums under. */
export interface KeyedBudget {
  key: string;
  budget: Budget;
}

/** The largest amount a budget may name (micro-USD: about 9 billion dollars). */
export const MAX_AMOUNT = Number.MAX_SAFE_INTEGER;

const FIELD_OF = new Map<string, BudgetField>(BUDGET_FIELDS.map((f) => [`.${f}`, f]));

/** The budget a policy sets (the tightest bound per field), or undefined if it sets none. */
export function budgetOf(policy: Policy): Budget | undefined {
  let budget: Budget | undefined;
  for (const s of policy.source) {
    if (!Array.isArray(s) || s[0] !== "<=" || typeof s[1] !== "string") continue;
    const field = FIELD_OF.get(s[1]);
    const n = typeof s[2] === "bigint" ? Number(s[2]) : s[2];
    if (field === undefined || typeof n !== "number") continue;
    budget ??= {};
    budget[field] = Math.min(budget[field] ?? Infinity, n);
  }
  return budget;
}

/** The policy statements that set `budget`. */
export function budgetPolicy(budget: Budget): Ipld[] {
  return BUDGET_FIELDS.filter((f) => budget[f] !== undefined).map((f) => ["<=", `.${f}`, budget[f] as number]);
}

/**
 * Why a child delegation's budget is not within its parent's (a field the
 * parent bounds that the child leaves unbounded, or bounds higher), or
 * undefined if it is.
 */
export function narrowsBudget(parent: Budget | undefined, child: Budget | undefined): string | undefined {
  if (parent === undefined) return undefined;
  for (const f of BUDGET_FIELDS) {
    const p = parent[f];
    if (p === undefined) continue;
    const c = child?.[f];
    if (c === undefined) return `its parent bounds ${f} to ${p} and it does not: a budget only shrinks down a chain`;
    if (c > p) return `it allows ${f} up to ${c}, more than its parent's ${p}: a budget only shrinks down a chain`;
  }
  return undefined;
}
