/**
 * The one error taxonomy of model calls, and what the router does about
 * each class: retry the same provider, fall back to the next, cool the
 * provider down, or stop because trying elsewhere cannot help (a bad
 * request fails the same everywhere, and would only cost more). Providers'
 * HTTP answers are classified here, so OpenAI-compatible servers and
 * Anthropic's API mean the same thing by the same code.
 */
import type { ErrorCode } from "../error-codes.ts";
import { WeftError } from "../errors.ts";

export type LlmFailure =
  | "llm/rate-limited"
  | "llm/overloaded"
  | "llm/context-too-long"
  | "llm/auth"
  | "llm/bad-request"
  | "llm/timeout"
  | "llm/unreachable"
  | "llm/bad-response";

export class LlmError extends WeftError {
  /** Seconds the provider asked to wait (Retry-After), when it said. */
  readonly retryAfterSeconds?: number;
  constructor(code: ErrorCode, message: string, options: { cause?: unknown; retryAfterSeconds?: number } = {}) {
    super("LlmError", code, message, { cause: options.cause });
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

export interface FailurePolicy {
  /** Try the same provider again, after a backoff. */
  retry: boolean;
  /** Try the route's next target. */
  fallBack: "yes" | "no" | "larger-context";
  /** Skip this provider for a while (`down`: until the configuration changes). */
  cooldown: "none" | "cooldown" | "down";
}

export const FAILURE_POLICY: Record<LlmFailure, FailurePolicy> = {
  "llm/rate-limited": { retry: true, fallBack: "yes", cooldown: "cooldown" },
  "llm/overloaded": { retry: true, fallBack: "yes", cooldown: "cooldown" },
  "llm/timeout": { retry: false, fallBack: "yes", cooldown: "cooldown" },
  "llm/unreachable": { retry: false, fallBack: "yes", cooldown: "cooldown" },
  "llm/bad-response": { retry: false, fallBack: "yes", cooldown: "cooldown" },
  "llm/auth": { retry: false, fallBack: "yes", cooldown: "down" },
  "llm/context-too-long": { retry: false, fallBack: "larger-context", cooldown: "none" },
  "llm/bad-request": { retry: false, fallBack: "no", cooldown: "none" },
};

export function isLlmFailure(code: string): code is LlmFailure {
  return Object.hasOwn(FAILURE_POLICY, code);
}

const CONTEXT_TOO_LONG =
  /context[_ ]length|context (size|window)|too many tokens|prompt is too long|maximum context|exceeds? the (available )?context/i;

/**
 * The class of a provider's HTTP error. `body` is the (bounded) response
 * text; both APIs put a type or code in it that says more than the status.
 */
export function classifyHttpFailure(status: number, body: string): LlmFailure {
  if (/insufficient_quota|billing/i.test(body)) return "llm/auth";
  if (status === 401 || status === 403 || /authentication_error|permission_error|invalid_api_key/.test(body)) {
    return "llm/auth";
  }
  if (status === 429 || /rate_limit/.test(body)) return "llm/rate-limited";
  if (status === 529 || status === 503 || /overloaded/.test(body)) return "llm/overloaded";
  if (status === 408 || status === 504) return "llm/timeout";
  if (CONTEXT_TOO_LONG.test(body) || status === 413) return "llm/context-too-long";
  if (/invalid_request_error/.test(body)) return "llm/bad-request";
  if (status >= 500) return "llm/overloaded";
  if (status >= 400) return "llm/bad-request";
  return "llm/bad-response";
}

/** Retry-After in seconds (a number or an HTTP date), bounded to a day; undefined when absent or unreadable. */
export function retryAfterSeconds(header: string | null, now: number): number | undefined {
  if (!header) return undefined;
  const seconds = /^\d{1,6}(\.\d+)?$/.test(header.trim()) ? Number(header) : (Date.parse(header) - now) / 1000;
  return Number.isFinite(seconds) && seconds >= 0 ? Math.min(seconds, 86_400) : undefined;
}
