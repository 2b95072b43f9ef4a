/**
 * The bounds of a chat request, checked before anything is reserved or
 * sent: at most 1024 messages of at most 1 MiB each, an output cap, a
 * temperature, a task kind that is a plain name.
 */
import { type Check, int, list, num, object, oneOf, optional, required, str } from "../schema/index.ts";
import type { ChatRequest } from "./types.ts";

export const MAX_OUTPUT_TOKENS = 1_000_000;

const message = object({
  role: required(oneOf("system", "user", "assistant")),
  content: required(str(0, 1 << 20)),
});

export const chatRequest: Check<ChatRequest> = object({
  taskKind: required(str(1, 64, /^[a-z0-9][a-z0-9_-]*$/)),
  messages: required(list(message, 1024)),
  maxOutputTokens: required(int(1, MAX_OUTPUT_TOKENS)),
  temperature: optional(num(0, 2)),
});
