/**
 * The LLM router: one call of a task kind goes to the first target of its
 * route that answers. Around each attempt it reserves the attempt's maximum
 * cost from the budget hook and settles the actual cost after; it times the
 * attempt out, retries a rate-limited or overloaded provider with backoff
 * (longer if the provider asks), falls back by the failure's class
 * (failures.ts), and cools failing providers down. Text streams to the
 * caller as it arrives; once any has, the call can no longer move to
 * another provider, so a later failure is the caller's to see. Runtime-
 * neutral: provider clients, clock, sleep and randomness are injected.
 */
import { messageOf, WeftError } from "../errors.ts";
import type { BudgetHook, Reservation } from "./budget.ts";
import { costMicroUsd, FREE, inputTokensBound, outputTokensWithin } from "./cost.ts";
import { FAILURE_POLICY, isLlmFailure, LlmError, type LlmFailure } from "./failures.ts";
import { chatRequest } from "./request.ts";
import { backoffMs, mayFallBack, ProviderHealth, routeFor } from "./routing.ts";
import type { ChatRequest, LlmSettings, Price, ProviderClient, ProviderSettings, Target, Usage } from "./types.ts";
import { targetName } from "./types.ts";

/** How one attempt ended: `ok`, `cut` (stopped at the budget's cap), a failure class, or `cancelled`. */
export type AttemptOutcome = "ok" | "cut" | LlmFailure | "cancelled";

export interface AttemptRecord {
  provider: string;
  model: string;
  outcome: AttemptOutcome;
  latencyMs: number;
  usage: Usage;
  costMicroUsd: number;
}

/** Told about every attempt and every fallback: the daemon's Prometheus metrics implement it. */
export interface RouterObserver {
  attempt(record: AttemptRecord): void;
  fallback(from: Target, to: Target, failure: LlmFailure): void;
}

export interface CallResult {
  text: string;
  provider: string;
  model: string;
  usage: Usage;
  costMicroUsd: number;
  /** The provider's reason (`stop`, `length`, `end_turn`, …) or `budget-cap` when the router cut the stream. */
  stopReason: string;
  attempts: AttemptRecord[];
}

export interface CallOptions {
  /** Aborting it (a paused or revoked agent) stops the call at once, wherever it is. */
  signal?: AbortSignal;
  /** Each piece of text as it arrives. */
  onText?: (text: string) => void;
}

export interface RouterDeps {
  settings: LlmSettings;
  /** Provider name → its client. */
  clients: ReadonlyMap<string, ProviderClient>;
  budget?: BudgetHook;
  observer?: RouterObserver;
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
  /** Shared with other routers over the same providers (one per budget), so a provider down for one is down for all. */
  health?: ProviderHealth;
}

/** A wait longer than this (a provider's Retry-After) moves on to the next target instead. */
const MAX_WAIT_MS = 30_000;

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const done = () => (signal?.removeEventListener("abort", stop), resolve());
    const timer = setTimeout(done, ms);
    const stop = () => (clearTimeout(timer), reject(signal?.reason));
    signal?.addEventListener("abort", stop, { once: true });
  });
}

const cancelled = () => new WeftError("LlmError", "llm/cancelled", "the model call was cancelled");

export class LlmRouter {
  readonly health: ProviderHealth;
  private readonly now: () => number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly random: () => number;
  private readonly deps: RouterDeps;

  constructor(deps: RouterDeps) {
    this.deps = deps;
    this.health = deps.health ?? new ProviderHealth();
    this.now = deps.now ?? Date.now;
    this.sleep = deps.sleep ?? abortableSleep;
    this.random = deps.random ?? Math.random;
  }

  get settings(): LlmSettings {
    return this.deps.settings;
  }

  /** Calls the route of `request.taskKind` until one target answers; throws the failure's WeftError otherwise. */
  async call(input: ChatRequest, options: CallOptions = {}): Promise<CallResult> {
    const request = chatRequest(input, "request");
    const { settings } = this.deps;
    const targets = routeFor(settings, request.taskKind);
    if (targets.length === 0) {
      throw new WeftError("LlmError", "llm/no-route", `no [llm.routes] entry for "${request.taskKind}" and no default`);
    }
    const attempts: AttemptRecord[] = [];
    const skipped: string[] = [];
    let last: { error: LlmError; failure: LlmFailure; from: ProviderSettings; target: Target } | undefined;
    for (const target of targets) {
      const provider = this.provider(target);
      if (last && !mayFallBack(last.failure, last.from, provider)) continue;
      const cool = this.health.cooling(provider.name, this.now());
      if (cool) {
        skipped.push(`${provider.name}: skipped after ${cool.reason}, until ${describeUntil(cool.at)}`);
        continue;
      }
      if (last) this.deps.observer?.fallback(last.target, target, last.failure);
      for (let retry = 0;; retry++) {
        const outcome = await this.attempt(request, target, provider, options, attempts);
        if ("result" in outcome) return outcome.result;
        const { error, failure } = outcome;
        const retryAfterMs = (error.retryAfterSeconds ?? 0) * 1000;
        this.health.failed(provider.name, failure, this.now(), settings.cooldownMs, retryAfterMs);
        last = { error, failure, from: provider, target };
        if (FAILURE_POLICY[failure].fallBack === "no") throw error;
        if (!FAILURE_POLICY[failure].retry || retry >= settings.maxRetries || retryAfterMs > MAX_WAIT_MS) break;
        try {
          await this.sleep(Math.max(retryAfterMs, backoffMs(retry, this.random)), options.signal);
        } catch {
          throw cancelled();
        }
      }
    }
    const tried = attempts.map((a) => `${a.provider}/${a.model}: ${a.outcome}`);
    const summary = [...tried, ...skipped].join("; ");
    if (last && attempts.every((a) => a.outcome === last!.failure)) {
      throw new LlmError(last.error.code, `${last.error.message} (${summary})`, { cause: last.error });
    }
    throw new WeftError(
      "LlmError",
      "llm/unavailable",
      `no provider could answer "${request.taskKind}": ${summary || "none is configured"}; ` +
        "check `weft llm test` and the providers' status",
      { cause: last?.error },
    );
  }

  private provider(target: Target): ProviderSettings {
    const p = this.deps.settings.providers.find((x) => x.name === target.provider);
    if (!p || !this.deps.clients.has(p.name)) {
      throw new WeftError("LlmError", "llm/no-route", `route names provider "${target.provider}", which is not set up`);
    }
    return p;
  }

  private price(target: Target, provider: ProviderSettings): Price {
    const price = this.deps.settings.prices[targetName(target)];
    if (price) return price;
    if (provider.local) return FREE;
    throw new WeftError("LlmError", "llm/no-route", `no [llm.prices] entry for ${targetName(target)}`);
  }

  /** One attempt at one target: reserve, stream, settle. Gives the result, or the failure to act on. */
  private async attempt(
    request: ChatRequest,
    target: Target,
    provider: ProviderSettings,
    options: CallOptions,
    attempts: AttemptRecord[],
  ): Promise<{ result: CallResult } | { error: LlmError; failure: LlmFailure }> {
    if (options.signal?.aborted) throw cancelled();
    const price = this.price(target, provider);
    const inputBound = inputTokensBound(request.messages);
    const maxCost = costMicroUsd(price, { inputTokens: inputBound, outputTokens: request.maxOutputTokens });
    const { budget } = this.deps;
    const reservation: Reservation = budget
      ? await budget.reserve({
        maxCostMicroUsd: maxCost,
        maxTokens: inputBound + request.maxOutputTokens,
        taskKind: request.taskKind,
        ...target,
      })
      : { grantedMicroUsd: maxCost };
    const cap = Math.min(request.maxOutputTokens, outputTokensWithin(price, inputBound, reservation.grantedMicroUsd));
    if (cap < 1) {
      await budget?.settle(reservation, 0, { inputTokens: 0, outputTokens: 0 });
      throw new WeftError(
        "LlmError",
        "llm/budget-exhausted",
        `the budget granted ${reservation.grantedMicroUsd} micro-USD, too little for any output from ` +
          `${targetName(target)}: raise the budget or route this task kind to a cheaper model`,
      );
    }
    const started = this.now();
    const controller = new AbortController();
    const onAbort = () => controller.abort();
    options.signal?.addEventListener("abort", onAbort, { once: true });
    reservation.signal?.addEventListener("abort", onAbort, { once: true });
    let timedOut = false;
    const timer = setTimeout(() => (timedOut = true, controller.abort()), provider.timeoutMs);
    let text = "";
    let pieces = 0;
    let streamed = false;
    let stopReason = "stop";
    const reported: Partial<Usage> = {};
    const finish = async (outcome: AttemptOutcome, usage: Usage) => {
      const cost = costMicroUsd(price, usage);
      const record = { ...target, outcome, latencyMs: this.now() - started, usage, costMicroUsd: cost };
      attempts.push(record);
      this.deps.observer?.attempt(record);
      await budget?.settle(reservation, cost, usage);
      return record;
    };
    try {
      const call = {
        model: target.model,
        messages: request.messages,
        maxOutputTokens: cap,
        temperature: request.temperature ?? 0,
      };
      for await (const event of this.deps.clients.get(provider.name)!.stream(call, controller.signal)) {
        if (event.type === "usage") {
          if (event.inputTokens !== undefined) reported.inputTokens = event.inputTokens;
          if (event.outputTokens !== undefined) reported.outputTokens = event.outputTokens;
        } else if (event.type === "end") {
          stopReason = event.stopReason;
        } else if (event.text) {
          // Each streamed piece is at least one token: more pieces than the cap is a provider ignoring it.
          if (++pieces > cap) {
            stopReason = "budget-cap";
            break;
          }
          streamed = true;
          text += event.text;
          options.onText?.(event.text);
        }
      }
    } catch (e) {
      // What a failed attempt may have cost: what the provider reported, or the input and pieces it sent; nothing if it sent none.
      const usage = reported.inputTokens !== undefined || pieces > 0
        ? { inputTokens: reported.inputTokens ?? inputBound, outputTokens: reported.outputTokens ?? pieces }
        : { inputTokens: 0, outputTokens: 0 };
      if (options.signal?.aborted) {
        await finish("cancelled", usage);
        throw cancelled();
      }
      // The budget withdrew its grant (a pause, or the room taken): its reason, not a provider failure.
      if (reservation.signal?.aborted) {
        await finish("cancelled", usage);
        throw reservation.signal.reason;
      }
      // A stream that breaks off (a reset connection) is the endpoint going away, like one that never answered.
      const error = timedOut
        ? new LlmError("llm/timeout", `${provider.name} did not finish within ${provider.timeoutMs} ms`)
        : e instanceof LlmError && isLlmFailure(e.code)
        ? e
        : new LlmError("llm/unreachable", `${provider.name} broke off the answer: ${messageOf(e)}`, { cause: e });
      const failure = error.code as LlmFailure;
      await finish(failure, usage);
      if (streamed) {
        throw new LlmError(error.code, `${error.message} (after part of the answer had streamed, so no fallback)`, {
          cause: error,
        });
      }
      return { error, failure };
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      reservation.signal?.removeEventListener("abort", onAbort);
    }
    const usage = {
      inputTokens: reported.inputTokens ?? inputBound,
      outputTokens: Math.min(reported.outputTokens ?? pieces, stopReason === "budget-cap" ? cap : Infinity),
    };
    const record = await finish(stopReason === "budget-cap" ? "cut" : "ok", usage);
    this.health.succeeded(provider.name);
    return {
      result: { text, ...target, usage, costMicroUsd: record.costMicroUsd, stopReason, attempts },
    };
  }
}

function describeUntil(at: number): string {
  return at === Infinity ? "its credentials are fixed (restart after fixing them)" : new Date(at).toISOString();
}
