/**
 * `[llm]` in weft.toml: providers, routes per task kind and the price
 * table, checked as every setting is (a bad one is refused naming its key).
 * API keys are never settings: a provider names the environment variable
 * (`key_env`) or keystore entry (`key_keystore`) that holds its key.
 */
import { WeftError } from "#protocol";
import type { LlmSettings, Price, ProviderSettings, Target } from "#protocol/llm";
import { targetName } from "#protocol/llm";

const isTable = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);

function invalid(source: string, key: string, must: string): never {
  throw new WeftError("ConfigError", "config/invalid", `${source}: ${key} ${must}`);
}

function known(table: Record<string, unknown>, keys: string[], source: string, at: string): void {
  for (const k of Object.keys(table)) {
    if (/(^|_)(key|api_?key|secret|password|token)$/i.test(k) && !keys.includes(k)) {
      invalid(
        source,
        `${at}.${k}`,
        "looks like a secret: keys come from key_env (an environment variable) or " +
          "key_keystore (`weft llm key NAME`), never from weft.toml",
      );
    }
    if (!keys.includes(k)) invalid(source, `${at}.${k}`, `is not a known setting (known: ${keys.join(", ")})`);
  }
}

const NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

function int(v: unknown, source: string, key: string, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    invalid(source, key, `must be an integer from ${min} to ${max}`);
  }
  return v;
}

function bool(v: unknown, source: string, key: string): boolean {
  if (typeof v !== "boolean") invalid(source, key, "must be true or false");
  return v;
}

function url(v: unknown, source: string, key: string): string {
  if (typeof v !== "string" || v.length > 2048 || !/^https?:\/\/[^/?#\s]+(\/[^?#\s]*)?$/.test(v)) {
    invalid(source, key, "must be an http(s) URL, e.g. http://127.0.0.1:11434/v1");
  }
  return v;
}

const isLoopback = (u: string) => /^https?:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?(\/|$)/.test(u);

function provider(name: string, v: unknown, source: string): ProviderSettings {
  const at = `llm.providers.${name}`;
  if (!NAME.test(name)) invalid(source, at, `must be named like ${NAME}`);
  if (!isTable(v)) invalid(source, at, "must be a table");
  known(v, ["api", "url", "local", "key_env", "key_keystore", "timeout_seconds", "context_tokens"], source, at);
  if (v.api !== "openai" && v.api !== "anthropic") invalid(source, `${at}.api`, "must be openai or anthropic");
  const address = url(v.url, source, `${at}.url`);
  if (v.key_env !== undefined && v.key_keystore !== undefined) {
    invalid(source, at, "must name one of key_env and key_keystore, not both");
  }
  if (v.key_env !== undefined && (typeof v.key_env !== "string" || !ENV_NAME.test(v.key_env))) {
    invalid(source, `${at}.key_env`, "must be an environment variable's name, e.g. OPENAI_API_KEY");
  }
  if (v.key_keystore !== undefined && (typeof v.key_keystore !== "string" || !NAME.test(v.key_keystore))) {
    invalid(source, `${at}.key_keystore`, `must be a keystore entry's name like ${NAME}`);
  }
  return {
    name,
    api: v.api,
    url: address,
    local: v.local === undefined ? isLoopback(address) : bool(v.local, source, `${at}.local`),
    ...(v.key_env !== undefined ? { key: { env: v.key_env as string } } : {}),
    ...(v.key_keystore !== undefined ? { key: { keystore: v.key_keystore as string } } : {}),
    timeoutMs: 1000 *
      (v.timeout_seconds === undefined ? 120 : int(v.timeout_seconds, source, `${at}.timeout_seconds`, 1, 3600)),
    ...(v.context_tokens !== undefined
      ? { contextTokens: int(v.context_tokens, source, `${at}.context_tokens`, 1, 100_000_000) }
      : {}),
  };
}

function target(v: unknown, providers: ProviderSettings[], source: string, key: string): Target {
  const m = typeof v === "string" ? /^([a-z0-9][a-z0-9_-]{0,63})\/([^\s]{1,256})$/.exec(v) : null;
  if (!m) invalid(source, key, 'must be "provider/model", e.g. "local/qwen2.5-coder:7b"');
  if (!providers.some((p) => p.name === m[1])) {
    invalid(source, key, `names provider ${m[1]}, which has no [llm.providers.${m[1]}] table`);
  }
  return { provider: m[1], model: m[2] };
}

/** Micro-USD per token, up to three decimals, as integer nano-USD. */
function perToken(v: unknown, source: string, key: string): number {
  const nano = typeof v === "number" ? Math.round(v * 1000) : NaN;
  if (!Number.isFinite(nano) || nano < 0 || nano > 1e12 || Math.abs(nano - (v as number) * 1000) > 1e-6) {
    invalid(source, key, "must be micro-USD per token from 0 to 1e9, with at most three decimals (0.15 = $0.15/M)");
  }
  return nano;
}

function price(v: unknown, source: string, key: string): Price {
  if (!isTable(v)) invalid(source, key, "must be a table with input and output");
  known(v, ["input", "output"], source, key);
  return {
    inputNanoUsd: perToken(v.input, source, `${key}.input`),
    outputNanoUsd: perToken(v.output, source, `${key}.output`),
  };
}

/** The `[llm]` settings of a parsed weft.toml, or undefined when it has none. */
export function llmConfig(toml: Record<string, unknown> | undefined, source = "weft.toml"): LlmSettings | undefined {
  const llm = toml?.llm;
  if (llm === undefined) return undefined;
  if (!isTable(llm)) invalid(source, "llm", "must be a table");
  known(llm, ["local_first", "max_retries", "cooldown_seconds", "providers", "routes", "prices"], source, "llm");
  if (!isTable(llm.providers) || Object.keys(llm.providers).length === 0) {
    invalid(source, "llm.providers", "must have at least one [llm.providers.NAME] table");
  }
  if (Object.keys(llm.providers).length > 64) invalid(source, "llm.providers", "must have at most 64 providers");
  const providers = Object.entries(llm.providers).map(([name, v]) => provider(name, v, source));
  if (!isTable(llm.routes) || !Array.isArray(llm.routes.default)) {
    invalid(source, "llm.routes.default", 'must list the targets tried for any task kind, e.g. ["local/llama3"]');
  }
  const routes: Record<string, Target[]> = {};
  for (const [kind, list] of Object.entries(llm.routes)) {
    if (!NAME.test(kind)) invalid(source, `llm.routes.${kind}`, `must be a task kind named like ${NAME}`);
    if (!Array.isArray(list) || list.length === 0 || list.length > 32) {
      invalid(source, `llm.routes.${kind}`, 'must be a list of 1 to 32 "provider/model" targets');
    }
    routes[kind] = list.map((t, i) => target(t, providers, source, `llm.routes.${kind}[${i}]`));
  }
  if (llm.prices !== undefined && !isTable(llm.prices)) invalid(source, "llm.prices", "must be a table");
  const prices: Record<string, Price> = {};
  for (const [name, v] of Object.entries(llm.prices ?? {})) {
    target(name, providers, source, `llm.prices."${name}"`);
    prices[name] = price(v, source, `llm.prices."${name}"`);
  }
  for (const t of Object.values(routes).flat()) {
    const local = providers.find((p) => p.name === t.provider)!.local;
    if (!local && !prices[targetName(t)]) {
      invalid(source, `llm.prices."${targetName(t)}"`, "is required: a cloud model without a price cannot be budgeted");
    }
  }
  return {
    providers,
    routes,
    prices,
    localFirst: llm.local_first === undefined ? true : bool(llm.local_first, source, "llm.local_first"),
    maxRetries: llm.max_retries === undefined ? 2 : int(llm.max_retries, source, "llm.max_retries", 0, 10),
    cooldownMs: 1000 *
      (llm.cooldown_seconds === undefined ? 30 : int(llm.cooldown_seconds, source, "llm.cooldown_seconds", 0, 86_400)),
  };
}

export const LLM_TOML = `
# Model providers for agents (docs: peer/README.md "LLM router"). Keys never go here: name the
# environment variable (key_env) or keystore entry (key_keystore, set with \`weft llm key NAME\`).
# [llm]
# local_first = true       # within a route, local providers before cloud ones
# max_retries = 2          # retries of a rate-limited or overloaded provider
# cooldown_seconds = 30    # a failing provider is skipped this long
# [llm.providers.local]
# api = "openai"           # any OpenAI-compatible server: Ollama, llama.cpp, vLLM, OpenAI
# url = "http://127.0.0.1:11434/v1"
# [llm.providers.anthropic]
# api = "anthropic"
# url = "https://api.anthropic.com"
# key_env = "ANTHROPIC_API_KEY"
# [llm.routes]
# default = ["local/qwen2.5-coder:7b", "anthropic/claude-sonnet-4-5"]
# [llm.prices."anthropic/claude-sonnet-4-5"]
# input = 3                # micro-USD per token ($3 per million)
# output = 15
`;
