/**
 * `weft llm test`: checks the `[llm]` configuration works, with one tiny
 * call per provider (or the one named) through the router itself, and
 * prints what answered, its tokens and cost, or each failure's class and
 * what to do. `weft llm key NAME` stores a provider's API key in the
 * node's keystore, read from stdin so it never sits in shell history.
 */
import { join } from "node:path";
import process from "node:process";
import { text } from "node:stream/consumers";
import { WeftError } from "#protocol";
import { type CallResult, formatMicroUsd, type LlmSettings } from "#protocol/llm";
import { writeApiKey } from "../keystore/api-keys.ts";
import { loadConfig } from "../daemon/config.ts";
import { startLlm } from "../llm/start.ts";
import { need, str } from "./args.ts";
import type { Command } from "./command.ts";

interface Checked {
  provider: string;
  model: string;
  ok: boolean;
  text?: string;
  inputTokens?: number;
  outputTokens?: number;
  costMicroUsd?: number;
  latencyMs?: number;
  error?: { code: string; message: string };
}

/** Each provider's first model in the routes (or --model), as a one-target route. */
function checks(settings: LlmSettings, provider?: string, model?: string): LlmSettings[] {
  const names = provider ? [provider] : settings.providers.map((p) => p.name);
  return names.map((name) => {
    if (!settings.providers.some((p) => p.name === name)) {
      throw new WeftError("LlmError", "llm/no-route", `no provider ${name} in [llm.providers]`);
    }
    const target = model
      ? { provider: name, model }
      : Object.values(settings.routes).flat().find((t) => t.provider === name);
    if (!target) throw new WeftError("LlmError", "llm/no-route", `no route names provider ${name}: pass --model`);
    return { ...settings, maxRetries: 0, routes: { default: [target] } };
  });
}

export const LLM_COMMANDS: Record<string, Command> = {
  "llm test": {
    usage: "weft llm test [--provider NAME] [--model MODEL]",
    summary: "Check [llm] works: one tiny call per provider, with its tokens and cost",
    options: { provider: { type: "string" }, model: { type: "string" } },
    async run(_a, v, io) {
      const config = await loadConfig({ ...process.env, WEFT_HOME: io.home });
      if (!config.llm) {
        throw new WeftError("LlmError", "llm/no-route", "weft.toml has no [llm] section: see `weft init`'s template");
      }
      const results: Checked[] = [];
      for (const settings of checks(config.llm, str(v, "provider"), str(v, "model"))) {
        const [target] = settings.routes.default;
        const { router } = await startLlm(settings, { env: process.env, keysDir: join(io.home, "keys") });
        try {
          const r: CallResult = await router.call({
            taskKind: "default",
            messages: [{ role: "user", content: "Reply with the single word: ok" }],
            maxOutputTokens: 8,
          });
          const latencyMs = r.attempts.at(-1)!.latencyMs;
          results.push({ ...target, ok: true, text: r.text, ...r.usage, costMicroUsd: r.costMicroUsd, latencyMs });
        } catch (e) {
          const error = e instanceof WeftError
            ? { code: e.code, message: e.message }
            : { code: "internal", message: String(e) };
          results.push({ ...target, ok: false, error });
        }
      }
      io.print(
        results,
        () =>
          results.map((r) =>
            r.ok
              ? `ok    ${r.provider}/${r.model}: ${r.inputTokens} in + ${r.outputTokens} out tokens, ` +
                `${formatMicroUsd(r.costMicroUsd!)}, ${r.latencyMs} ms: ${JSON.stringify(r.text)}`
              : `FAIL  ${r.provider}/${r.model}: ${r.error!.code}: ${r.error!.message}`
          ).join("\n"),
      );
      const failed = results.filter((r) => !r.ok).length;
      if (failed) {
        throw new WeftError(
          "LlmError",
          "llm/unavailable",
          `${failed} of ${results.length} provider(s) failed the check`,
        );
      }
    },
  },
  "llm key": {
    usage: "weft llm key NAME < key-file",
    summary: "Store a model provider's API key in this node's keystore (read from stdin); name it in key_keystore",
    async run(a, _v, io) {
      const name = need(a, 0, "NAME");
      if (process.stdin.isTTY) io.out("paste the key, then press Enter and Ctrl-D:");
      const path = await writeApiKey(join(io.home, "keys"), name, await text(process.stdin));
      io.print({ name, path }, () => `stored; set key_keystore = "${name}" on the provider in weft.toml (${path})`);
    },
  },
};
