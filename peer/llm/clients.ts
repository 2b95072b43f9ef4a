/**
 * The provider clients of an `[llm]` configuration, each with its API key
 * read from where the configuration says (the environment or the node's
 * keystore). A provider whose key is missing gets a client that fails as
 * `llm/auth`, so the router marks it down and moves on, and says which
 * variable or entry to set.
 */
import { LlmError, type LlmSettings, type ProviderClient, type ProviderSettings } from "#protocol/llm";
import { readApiKey } from "../keystore/api-keys.ts";
import { anthropicClient } from "./anthropic-client.ts";
import { openAiClient } from "./openai-client.ts";

export interface KeySources {
  env: Record<string, string | undefined>;
  /** The keystore directory (`<data dir>/keys`). */
  keysDir: string;
}

/** The provider's key, or a sentence saying where it should have been. */
async function keyOf(p: ProviderSettings, from: KeySources): Promise<{ key?: string; missing?: string }> {
  if (!p.key) return {};
  if ("env" in p.key) {
    const key = from.env[p.key.env]?.trim();
    return key ? { key } : { missing: `the environment variable ${p.key.env} (its key_env) is not set` };
  }
  const key = await readApiKey(from.keysDir, p.key.keystore);
  return key
    ? { key }
    : { missing: `the keystore has no entry ${p.key.keystore}: run \`weft llm key ${p.key.keystore}\`` };
}

export async function providerClients(settings: LlmSettings, from: KeySources): Promise<Map<string, ProviderClient>> {
  const clients = new Map<string, ProviderClient>();
  for (const p of settings.providers) {
    const { key, missing } = await keyOf(p, from);
    if (missing) {
      clients.set(p.name, {
        // deno-lint-ignore require-yield
        async *stream() {
          throw new LlmError("llm/auth", `${p.name} has no API key: ${missing}`);
        },
      });
    } else {
      clients.set(p.name, p.api === "openai" ? openAiClient(p.name, p.url, key) : anthropicClient(p.name, p.url, key));
    }
  }
  return clients;
}
