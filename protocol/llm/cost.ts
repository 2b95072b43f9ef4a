/**
 * Cost arithmetic in integers: prices are nano-USD per token, costs are
 * micro-USD rounded up (never undercharge a budget). The input side of a
 * call's maximum cost is bounded without a tokenizer: no tokenizer in use
 * makes more tokens than UTF-8 bytes, plus a few per message for the chat
 * template's markers.
 */
import type { ChatMessage, Price, Usage } from "./types.ts";

const PER_MESSAGE_TOKENS = 8;

/** An upper bound on the tokens `messages` can take, for any model. */
export function inputTokensBound(messages: ChatMessage[]): number {
  const encoder = new TextEncoder();
  return messages.reduce((n, m) => n + encoder.encode(m.content).length + PER_MESSAGE_TOKENS, PER_MESSAGE_TOKENS);
}

/** Micro-USD for `usage` at `price`, rounded up. */
export function costMicroUsd(price: Price, usage: Usage): number {
  return Math.ceil((usage.inputTokens * price.inputNanoUsd + usage.outputTokens * price.outputNanoUsd) / 1000);
}

/** The most output tokens `budgetMicroUsd` pays for once `inputTokens` are paid; Infinity when output is free. */
export function outputTokensWithin(price: Price, inputTokens: number, budgetMicroUsd: number): number {
  const left = budgetMicroUsd * 1000 - inputTokens * price.inputNanoUsd;
  if (left < 0) return 0;
  return price.outputNanoUsd === 0 ? Infinity : Math.floor(left / price.outputNanoUsd);
}

/** A micro-USD amount as dollars for people: `$0.000123`. */
export function formatMicroUsd(microUsd: number): string {
  return `$${(microUsd / 1e6).toFixed(6)}`;
}

export const FREE: Price = { inputNanoUsd: 0, outputNanoUsd: 0 };
