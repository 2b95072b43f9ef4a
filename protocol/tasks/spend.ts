/**
 * What agents spend, as every node reduces it from the same operations:
 * reservations made before model calls, the cost receipts that settle
 * them, and which agents are paused.
 *
 * A reservation draws on every budget in its author's delegation chain
 * (ucan/budget.ts), each summed under the key of the delegation that sets
 * it, so agents that share a budget higher up the chain share its sum. An
 * open reservation counts at its maximum and a settled one at what it
 * cost, so calls in flight count: a reservation lands only if every budget
 * it draws on still has room for its maximum, and is refused otherwise.
 * Operations reduce in (HLC, CID) order, so of two concurrent reservations
 * from different nodes that do not both fit, every node admits the same
 * one — the earlier — whatever order they arrived in.
 *
 * A receipt for a reservation that was refused (it lost such a race after
 * its call had started) still counts what it cost: money spent is never
 * dropped from the sums, it only leaves less for what comes after.
 */
import type { KeyedBudget } from "../ucan/budget.ts";
import type { Hlc } from "./hlc.ts";
import type { OpArgs } from "./ops.ts";

export type { KeyedBudget } from "../ucan/budget.ts";

/** Money (micro-USD) and tokens. */
export interface Amount {
  usd: number;
  tokens: number;
}

/** What one agent (or one task) has spent and holds reserved. */
export interface Spend {
  /** What settled calls cost. */
  spent: Amount;
  /** The maxima of reservations not settled yet. */
  reserved: Amount;
  /** Reservations that landed. */
  reservations: number;
  /** Reservations refused (over budget, or paused). */
  refused: number;
}

export interface Pause {
  /** The pause operation's CID. */
  op: string;
  by: string;
  at: Hlc;
  reason?: string;
}

interface Reservation {
  author: string;
  task: string;
  /** UTC day (days since the epoch) its `dayUsd` counts against. */
  day: number;
  max: Amount;
  /** The budgets it drew on (delegation keys). */
  keys: string[];
  applied: boolean;
  settled: boolean;
}

interface Tally {
  usd: number;
  tokens: number;
  /** micro-USD by UTC day. */
  days: Map<number, number>;
}

type Verdict = { ok: true } | { ok: false; reason: string };

const DAY_MS = 24 * 60 * 60 * 1000;
const zero = (): Spend => ({
  spent: { usd: 0, tokens: 0 },
  reserved: { usd: 0, tokens: 0 },
  reservations: 0,
  refused: 0,
});
const copySpend = (s: Spend): Spend => ({
  spent: { ...s.spent },
  reserved: { ...s.reserved },
  reservations: s.reservations,
  refused: s.refused,
});

/** Why an operation by a paused agent is refused (by any family's reducer). */
export const pausedReason = (author: string, p: Pause): string => `${author} is paused (by ${p.by}, ${p.op})`;

/** A newline is in neither a DID nor a task id, so no two pairs share a key. */
const agentTaskKey = (agent: string, task: string) => `${agent}\n${task}`;

export class SpendLedger {
  readonly #reservations: Map<string, Reservation>;
  readonly #tallies: Map<string, Tally>;
  readonly #agents: Map<string, Spend>;
  readonly #tasks: Map<string, Spend>;
  /** One agent's spend on one task, by agentTaskKey: what the view shows per agent per task. */
  readonly #agentTasks: Map<string, Spend>;
  readonly #paused: Map<string, Pause>;

  constructor(
    reservations = new Map<string, Reservation>(),
    tallies = new Map<string, Tally>(),
    agents = new Map<string, Spend>(),
    tasks = new Map<string, Spend>(),
    paused = new Map<string, Pause>(),
    agentTasks = new Map<string, Spend>(),
  ) {
    this.#reservations = reservations;
    this.#tallies = tallies;
    this.#agents = agents;
    this.#tasks = tasks;
    this.#paused = paused;
    this.#agentTasks = agentTasks;
  }

  /** An independent copy (the log keeps one as a checkpoint). */
  fork(): SpendLedger {
    const copyMap = <V>(m: Map<string, V>, f: (v: V) => V) => new Map([...m].map(([k, v]) => [k, f(v)]));
    return new SpendLedger(
      copyMap(this.#reservations, (r) => ({ ...r })),
      copyMap(this.#tallies, (t) => ({ ...t, days: new Map(t.days) })),
      copyMap(this.#agents, copySpend),
      copyMap(this.#tasks, copySpend),
      new Map(this.#paused),
      copyMap(this.#agentTasks, copySpend),
    );
  }

  /** The pause in force on `agent`, if it is paused. */
  paused(agent: string): Pause | undefined {
    return this.#paused.get(agent);
  }

  /** Every paused agent. */
  get pausedAgents(): ReadonlyMap<string, Pause> {
    return this.#paused;
  }

  pause(op: { cid: string; author: string; args: OpArgs<"pause"> }): void {
    this.#paused.set(op.args.agent, {
      op: op.cid,
      by: op.author,
      at: op.args.at,
      ...(op.args.reason !== undefined ? { reason: op.args.reason } : {}),
    });
  }

  resume(op: { args: OpArgs<"resume"> }): Verdict {
    if (!this.#paused.delete(op.args.agent)) return { ok: false, reason: `agent ${op.args.agent} is not paused` };
    return { ok: true };
  }

  /** What an agent has spent and holds reserved, in this space. */
  agent(did: string): Spend {
    return copySpend(this.#agents.get(did) ?? zero());
  }

  /** Every agent that reserved anything, with its spend. */
  agents(): Map<string, Spend> {
    return new Map([...this.#agents].map(([k, v]) => [k, copySpend(v)]));
  }

  /** What was spent on a task and is reserved for it, by every agent. */
  task(id: string): Spend {
    return copySpend(this.#tasks.get(id) ?? zero());
  }

  /** What one agent spent on one task and holds reserved for it (others' calls on the task not counted). */
  agentTask(did: string, task: string): Spend {
    return copySpend(this.#agentTasks.get(agentTaskKey(did, task)) ?? zero());
  }

  /** What has been drawn (spent plus reserved) on the budget a delegation sets, by its key. */
  drawn(key: string, day?: number): { usd: number; tokens: number; dayUsd: number } {
    const t = this.#tallies.get(key);
    return { usd: t?.usd ?? 0, tokens: t?.tokens ?? 0, dayUsd: day === undefined ? 0 : t?.days.get(day) ?? 0 };
  }

  /** Reserve `op`'s maximum against every budget in its chain, or refuse it if one has no room. */
  reserve(op: { cid: string; author: string; args: OpArgs<"reserve"> }, budgets: readonly KeyedBudget[]): Verdict {
    const a = op.args;
    const max = { usd: a.usd, tokens: a.tokens };
    const day = Math.floor(a.at[0] / DAY_MS);
    const r: Reservation = {
      author: op.author,
      task: a.task,
      day,
      max,
      keys: budgets.map((b) => b.key),
      applied: false,
      settled: false,
    };
    this.#reservations.set(op.cid, r);
    for (const { key, budget } of budgets) {
      const t = this.#tallies.get(key);
      const used = { usd: t?.usd ?? 0, tokens: t?.tokens ?? 0, dayUsd: t?.days.get(day) ?? 0 };
      const over = (["usd", "tokens", "dayUsd"] as const).find((f) =>
        budget[f] !== undefined && used[f] + (f === "tokens" ? max.tokens : max.usd) > (budget[f] as number)
      );
      if (over !== undefined) {
        this.#count(op.author, a.task, (s) => s.refused++);
        return {
          ok: false,
          reason: `over budget: ${used[over]} of ${budget[over]} ${over === "tokens" ? "tokens" : "micro-USD"}` +
            `${over === "dayUsd" ? " today" : ""} drawn (spent or reserved), this call reserves ` +
            `${over === "tokens" ? max.tokens : max.usd} more`,
        };
      }
    }
    for (const key of r.keys) this.#draw(key, day, max, 1);
    r.applied = true;
    this.#count(op.author, a.task, (s) => {
      s.reservations++;
      s.reserved.usd += max.usd;
      s.reserved.tokens += max.tokens;
    });
    return { ok: true };
  }

  /** Settle a reservation with what its call cost: the cost replaces the maximum in every sum. */
  settle(op: { cid: string; author: string; args: OpArgs<"settle"> }): Verdict {
    const a = op.args;
    const r = this.#reservations.get(a.reservation);
    if (!r) return { ok: false, reason: `no reservation ${a.reservation} (settle follows its reservation)` };
    if (r.author !== op.author) return { ok: false, reason: `reservation ${a.reservation} is ${r.author}'s` };
    if (r.task !== a.task) return { ok: false, reason: `reservation ${a.reservation} is for task ${r.task}` };
    if (r.settled) return { ok: false, reason: `reservation ${a.reservation} is already settled` };
    r.settled = true;
    const cost = { usd: a.usd, tokens: a.tokens };
    for (const key of r.keys) {
      if (r.applied) this.#draw(key, r.day, r.max, -1);
      this.#draw(key, r.day, cost, 1);
    }
    const applied = r.applied;
    this.#count(op.author, a.task, (s) => {
      if (applied) {
        s.reserved.usd -= r.max.usd;
        s.reserved.tokens -= r.max.tokens;
      }
      s.spent.usd += cost.usd;
      s.spent.tokens += cost.tokens;
    });
    return { ok: true };
  }

  #draw(key: string, day: number, amount: Amount, sign: 1 | -1): void {
    let t = this.#tallies.get(key);
    if (!t) this.#tallies.set(key, t = { usd: 0, tokens: 0, days: new Map() });
    t.usd += sign * amount.usd;
    t.tokens += sign * amount.tokens;
    t.days.set(day, (t.days.get(day) ?? 0) + sign * amount.usd);
  }

  #count(agent: string, task: string, f: (s: Spend) => void): void {
    const split = [this.#agentTasks, agentTaskKey(agent, task)] as const;
    for (const [map, k] of [[this.#agents, agent], [this.#tasks, task], split] as const) {
      let s = map.get(k);
      if (!s) map.set(k, s = zero());
      f(s);
    }
  }
}
