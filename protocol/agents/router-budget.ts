/**
 * One shape for budgets: the LLM router's `BudgetHook` (llm/budget.ts) on
 * top of an agent's space-backed `SpendHook` (spending.ts). Each attempt the
 * router makes reserves its maximum money and tokens as a signed
 * reservation on the agent's task, and settles with a signed receipt of what
 * it cost — so every model call of the loop is counted per task on every
 * node. The reservation's signal (a pause, a revoke, the room taken by an
 * earlier concurrent reservation) is handed to the router, which stops the
 * call at once.
 */
import type { BudgetHook, Reservation as RouterReservation, ReserveRequest } from "../llm/budget.ts";
import type { Usage } from "../llm/types.ts";
import type { Reservation, SpendHook } from "./spending.ts";

interface Held extends RouterReservation {
  readonly spend: Reservation;
  readonly model: string;
  readonly provider: string;
}

/** The router's budget hook, charging `spend` (one agent on one task). */
export function routerBudget(spend: SpendHook): BudgetHook {
  return {
    async reserve(request: ReserveRequest): Promise<RouterReservation> {
      const model = `${request.provider}/${request.model}`;
      const r = await spend.reserve({ usd: request.maxCostMicroUsd, tokens: request.maxTokens }, { model });
      const held: Held = {
        grantedMicroUsd: r.max.usd,
        signal: r.signal,
        spend: r,
        model,
        provider: request.provider,
      };
      return held;
    },
    async settle(reservation: RouterReservation, actualMicroUsd: number, usage: Usage): Promise<void> {
      const held = reservation as Held;
      await spend.settle(held.spend, {
        usd: actualMicroUsd,
        tokens: usage.inputTokens + usage.outputTokens,
        model: held.model,
        provider: held.provider,
      });
    },
  };
}
