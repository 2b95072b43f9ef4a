/**
 * The peer's LLM router, built from `[llm]`: provider clients with their
 * keys, metrics the daemon serves on /metrics, and the budget hook the
 * caller (an agent's budget) supplies per call site.
 */
import { type BudgetHook, LlmRouter, type LlmSettings, type RouterDeps } from "#protocol/llm";
import type { Logger } from "../daemon/logger.ts";
import { type KeySources, providerClients } from "./clients.ts";
import { LlmMetrics } from "./metrics.ts";

export interface PeerLlm {
  router: LlmRouter;
  metrics: LlmMetrics;
  /** A router sharing this one's clients, health and metrics, charging `budget` (an agent's). */
  withBudget(budget: BudgetHook): LlmRouter;
}

/** `clock` replaces the router's clock, sleep or randomness (tests make backoff jitter-free with it). */
export async function startLlm(
  settings: LlmSettings,
  keys: KeySources,
  log?: Logger,
  clock: Partial<Pick<RouterDeps, "now" | "sleep" | "random">> = {},
): Promise<PeerLlm> {
  const clients = await providerClients(settings, keys);
  const metrics = new LlmMetrics(log);
  const router = new LlmRouter({ settings, clients, observer: metrics, ...clock });
  return {
    router,
    metrics,
    withBudget: (budget) =>
      new LlmRouter({ settings, clients, observer: metrics, budget, health: router.health, ...clock }),
  };
}
