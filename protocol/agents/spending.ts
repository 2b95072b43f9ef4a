/**
 * The budget hook the LLM router calls around every model call, backed by
 * the space: `reserve(max)` signs a reservation of the call's maximum cost
 * as the agent, in the space's causal log, before the call starts — and
 * refuses (`budget/exhausted`) if a budget in the agent's chain has no room
 * for it; `settle(reservation, actual)` signs the cost receipt after. Every
 * node reduces the same operations (tasks/spend.ts), so what one node lets
 * through, every node counts.
 *
 * Each reservation carries an AbortSignal the router passes to its HTTP
 * call. It fires when the agent is paused or loses its authority (the
 * kill switch, below), and when the reservation itself is refused after
 * the fact — a concurrent reservation from another node, earlier in the
 * log's order, took the room it had.
 */
import { WeftError } from "../errors.ts";
import type { Signer } from "../identity/ed25519.ts";
import { Conflict, Forbidden, type Space } from "../space/space.ts";
import { Commands } from "../ucan/commands.ts";

/** Money (micro-USD) and tokens. */
export interface Cost {
  usd: number;
  tokens: number;
}

export interface Reservation {
  /** The reservation operation's CID. */
  readonly id: string;
  readonly max: Cost;
  /** Aborted when the call must stop: the agent was paused or revoked, or the reservation lost its room. */
  readonly signal: AbortSignal;
}

/** What the LLM router asks before and after each model call. */
export interface SpendHook {
  reserve(max: Cost, options?: { model?: string }): Promise<Reservation>;
  settle(reservation: Reservation, actual: Cost & { model?: string; provider?: string }): Promise<void>;
}

/**
 * Stops an agent on the node that runs it: its `signal` aborts as soon as
 * the space shows the agent paused, or no longer holding a chain that lets
 * it spend (revoked or expired). After a resume, `signal` is a fresh one.
 */
export class AgentKillSwitch {
  readonly #space: Space;
  readonly #did: string;
  readonly #unsubscribe: () => void;
  #controller = new AbortController();

  constructor(space: Space, agentDid: string) {
    this.#space = space;
    this.#did = agentDid;
    this.#unsubscribe = space.subscribe((e) => {
      if (e.type === "members" || (e.type === "agents" && e.agents.includes(agentDid))) this.check();
    });
    this.check();
  }

  /** Why the agent may not act now, or undefined if it may. */
  stopped(): string | undefined {
    const pause = this.#space.log.reducer.spend.paused(this.#did);
    if (pause) return `agent ${this.#did} was paused by ${pause.by}${pause.reason ? `: ${pause.reason}` : ""}`;
    const now = Math.floor(Date.now() / 1000);
    if (this.#space.authority.chainsFor(this.#did, Commands.taskReserve, now).length === 0) {
      return `agent ${this.#did} holds no live delegation to spend in this space (revoked or expired)`;
    }
    return undefined;
  }

  /** Aborts when the agent is stopped. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Look again (space events call it; so may anyone who changed what it depends on). */
  check(): void {
    const why = this.stopped();
    if (why !== undefined && !this.#controller.signal.aborted) {
      this.#controller.abort(new WeftError("AgentStopped", "agent/stopped", why));
    } else if (why === undefined && this.#controller.signal.aborted) {
      this.#controller = new AbortController();
    }
  }

  close(): void {
    this.#unsubscribe();
  }
}

export interface AgentSpendingOptions {
  space: Space;
  /** The agent's key, held on this node. */
  signer: Signer;
  /** The task the calls are made for: per-task cost falls out of the log. */
  task: string;
  /** The agent's kill switch (shared by all its calls on this node). */
  kill: AgentKillSwitch;
  /**
   * Asked before each reservation with the agent's spending in the space
   * (spent and reserved, micro-USD) once it lands: the approve operation to
   * name if the space's spending gate holds it back (approvals/gate.ts),
   * or undefined if it does not.
   */
  approveSpend?: (to: number) => Promise<string | undefined>;
}

/** The space-backed SpendHook of one agent working on one task. */
export class AgentSpending implements SpendHook {
  readonly #o: AgentSpendingOptions;
  /** Open reservations: stop watching each once it is settled. */
  readonly #open = new Map<string, () => void>();

  constructor(options: AgentSpendingOptions) {
    this.#o = options;
  }

  async reserve(max: Cost, options: { model?: string } = {}): Promise<Reservation> {
    const { space, signer, task, kill } = this.#o;
    kill.check();
    if (kill.signal.aborted) throw kill.signal.reason;
    const mine = space.log.reducer.spend.agent(signer.did);
    const approval = await this.#o.approveSpend?.(mine.spent.usd + mine.reserved.usd + max.usd);
    let cid: string;
    try {
      ({ cid } = await space.actAsOp(signer, "reserve", {
        task,
        usd: max.usd,
        tokens: max.tokens,
        dayUsd: max.usd,
        ...(options.model !== undefined ? { model: options.model } : {}),
        ...(approval !== undefined ? { approval } : {}),
      }));
    } catch (e) {
      if (e instanceof Conflict && e.message.startsWith("over budget")) {
        throw new WeftError("BudgetExhausted", "budget/exhausted", e.message, { cause: e });
      }
      // Refused as paused, or without authority: the kill switch says which.
      if (e instanceof Conflict || e instanceof Forbidden) kill.check();
      if (kill.signal.aborted) throw kill.signal.reason;
      throw e;
    }
    const lost = new AbortController();
    const unsubscribe = space.subscribe((e) => {
      if (e.type !== "tasks" || !e.tasks.includes(task)) return;
      const outcome = space.log.outcome(cid);
      if (outcome && !outcome.applied) {
        unsubscribe();
        lost.abort(new WeftError("BudgetExhausted", "budget/exhausted", `reservation ${cid}: ${outcome.reason}`));
      }
    });
    const signal = AbortSignal.any([kill.signal, lost.signal]);
    signal.addEventListener("abort", unsubscribe, { once: true });
    this.#open.set(cid, unsubscribe);
    return { id: cid, max: { ...max }, signal };
  }

  async settle(
    reservation: Pick<Reservation, "id">,
    actual: Cost & { model?: string; provider?: string },
  ): Promise<void> {
    const { space, signer, task } = this.#o;
    this.#open.get(reservation.id)?.();
    this.#open.delete(reservation.id);
    await space.actAs(signer, "settle", {
      task,
      reservation: reservation.id,
      usd: actual.usd,
      tokens: actual.tokens,
      dayUsd: actual.usd,
      ...(actual.model !== undefined ? { model: actual.model } : {}),
      ...(actual.provider !== undefined ? { provider: actual.provider } : {}),
    });
  }
}
