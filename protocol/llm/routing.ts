/**
 * The routing decision: which targets a task kind tries, in which order
 * (local before cloud when the policy says so), which of them are cooling
 * down after a failure, and where a failure may fall back to. Pure: the
 * clock is passed in.
 */
import { FAILURE_POLICY, type LlmFailure } from "./failures.ts";
import type { LlmSettings, ProviderSettings, Target } from "./types.ts";

/** The targets for `taskKind`, local providers first when `localFirst`. */
export function routeFor(settings: LlmSettings, taskKind: string): Target[] {
  const route = settings.routes[taskKind] ?? settings.routes.default ?? [];
  if (!settings.localFirst) return [...route];
  const local = (t: Target) => settings.providers.find((p) => p.name === t.provider)?.local === true;
  return [...route.filter(local), ...route.filter((t) => !local(t))];
}

/** Providers skipped until a time (a failure's cooldown) or for good (`Infinity`: refused credentials). */
export class ProviderHealth {
  private until = new Map<string, { at: number; reason: LlmFailure }>();

  /** Records a failure's cooldown; `cooldownMs` unless the provider asked for longer (Retry-After). */
  failed(provider: string, failure: LlmFailure, now: number, cooldownMs: number, retryAfterMs = 0): void {
    const policy = FAILURE_POLICY[failure].cooldown;
    if (policy === "none") return;
    const at = policy === "down" ? Infinity : now + Math.max(cooldownMs, retryAfterMs);
    this.until.set(provider, { at, reason: failure });
  }

  succeeded(provider: string): void {
    this.until.delete(provider);
  }

  /** Why `provider` is skipped at `now`, or undefined when it is available. */
  cooling(provider: string, now: number): { at: number; reason: LlmFailure } | undefined {
    const c = this.until.get(provider);
    if (c && c.at <= now) this.until.delete(provider);
    return c && c.at > now ? c : undefined;
  }
}

/**
 * Whether a failure of `from` may move on to `next`: never after a bad
 * request; after a too-long context only to a provider known to have a
 * larger window.
 */
export function mayFallBack(failure: LlmFailure, from: ProviderSettings, next: ProviderSettings): boolean {
  const rule = FAILURE_POLICY[failure].fallBack;
  if (rule === "no") return false;
  if (rule === "yes") return true;
  return from.contextTokens !== undefined && next.contextTokens !== undefined &&
    next.contextTokens > from.contextTokens;
}

/** Exponential backoff with full jitter: attempt 0 waits up to 250 ms, doubling to at most 8 s. */
export function backoffMs(attempt: number, random: () => number): number {
  return Math.floor(random() * Math.min(8000, 250 * 2 ** attempt));
}
