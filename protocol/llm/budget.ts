/**
 * The budget hook the router calls around every model call. Before a call
 * it asks `reserve` for the call's maximum cost; the budget may refuse
 * (throw a WeftError, e.g. `llm/budget-exhausted`) or grant less than
 * asked, and the router then caps the call's output tokens to what the
 * grant pays for, cutting the stream at that cap. After the call, `settle`
 * receives the actual cost (from the provider's token counts) exactly once,
 * also when the call failed (with what it may have cost; zero when no
 * request reached the provider). Reservations in flight are the budget's
 * to count, so concurrent calls cannot overshoot it together.
 *
 * Agents' budgets implement this through one adapter (protocol/agents/
 * router-budget.ts); with no hook, calls are not limited.
 */
import type { Usage } from "./types.ts";

export interface ReserveRequest {
  /** What the call costs at most: its input bound and its output cap at the target's price. */
  maxCostMicroUsd: number;
  /** The most tokens it uses: its input bound and its output cap. */
  maxTokens: number;
  taskKind: string;
  provider: string;
  model: string;
}

export interface Reservation {
  /** What the budget set aside: at most what was asked. */
  readonly grantedMicroUsd: number;
  /** Fires when the budget withdraws the grant mid-call (the agent was paused, or the room was taken): the call stops. */
  readonly signal?: AbortSignal;
}

export interface BudgetHook {
  reserve(request: ReserveRequest): Promise<Reservation>;
  settle(reservation: Reservation, actualMicroUsd: number, usage: Usage): Promise<void>;
}
