/**
 * The `weft` dispatcher: finds the command in registry.ts, loads that
 * command's area file (and nothing else), parses its options and runs it.
 * Every subcommand but `init`, `up`, `id`, `relay-key` and `cap inspect`
 * talks to the local daemon over its HTTP API with the credentials the
 * daemon wrote to `$WEFT_HOME/cli.json`. The daemon's config (weft.toml)
 * is read only by the commands that use it (`up`, `init`, `bridge`, `llm`),
 * or to explain why no peer answers: the running peer already checked it,
 * and reading it loads every runner and bridge plug-in, which would cost
 * an API command more than its request.
 */
import process from "node:process";
import { parseArgs } from "node:util";
import { isWeftError, WeftError } from "#protocol";
import type { ApiClient } from "../api/client.ts";
import { dataDirFromEnv } from "../data-dir.ts";
import { EXIT, exitCodeFor } from "./exit-codes.ts";
import { str, Usage, type Values } from "./args.ts";
import type { Io } from "./command.ts";
import { AREAS, loadCommand, REGISTRY } from "./registry.ts";

async function help(): Promise<string> {
  const all = Object.assign({}, ...(await Promise.all(AREAS.map((area) => area()))));
  const names = [...REGISTRY.keys()];
  const width = Math.max(...names.map((n) => n.length));
  const groups = names.map((name) => `  ${name.padEnd(width)} ${all[name].summary}`);
  return `weft — a local-first, agent-first development mesh

usage: weft <command> [options]    (--help on any command; --json on any read)

${groups.join("\n")}

global options:
  --json          machine-readable output
  --space <s>     the space (name or DID) for space and task commands (or WEFT_SPACE)
  --url <url>     the peer's API (default: from $WEFT_HOME/cli.json)

environment: WEFT_HOME (data dir, default ./.weft)
exit codes: 0 ok, 1 error, 2 bad usage or input, 3 not found, 4 conflict, 5 not allowed, 69 peer unreachable`;
}

export async function main(argv: string[]): Promise<number> {
  const out = (text: string) => process.stdout.write(text + "\n");
  const err = (text: string) => process.stderr.write(text + "\n");
  const words: string[] = [];
  for (const w of argv) {
    if (w.startsWith("-")) break;
    words.push(w);
  }
  // The longest registered name the words start with: `kube node status`, `task add`, `run`.
  const key = [3, 2, 1].map((n) => words.slice(0, n).join(" ")).find((k, i) =>
    words.length >= 3 - i && REGISTRY.has(k)
  );
  if (!key) {
    if (words.length === 0 || argv.includes("--help") || argv.includes("-h") || words[0] === "help") {
      out(await help());
      return words.length === 0 && !argv.includes("--help") && !argv.includes("-h") && words[0] !== "help"
        ? EXIT.usage
        : EXIT.ok;
    }
    err(`weft: unknown command ${words.join(" ")}\n\n${await help()}`);
    return EXIT.usage;
  }
  const command = await loadCommand(key);
  const rest = argv.slice(key.split(" ").length);
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
        space: { type: "string" },
        url: { type: "string" },
        ...command.options,
      },
    });
  } catch (e) {
    err(`weft ${key}: ${(e as Error).message}\nusage: ${command.usage}`);
    return EXIT.usage;
  }
  const v = parsed.values as Values;
  if (v.help) {
    out(`usage: ${command.usage}\n\n${command.summary}`);
    return EXIT.ok;
  }
  const home = dataDirFromEnv(process.env);
  let client: ApiClient | undefined;
  const io: Io = {
    home,
    json: Boolean(v.json),
    out,
    print: (value, human) => out(v.json ? JSON.stringify(value, null, 2) : human()),
    async client() {
      if (client) return client;
      const [{ ApiClient }, { loadCredentials }] = await Promise.all([
        import("../api/client.ts"),
        import("../api/credentials.ts"),
      ]);
      return (client ??= new ApiClient(await loadCredentials(home), str(v, "url")));
    },
  };
  try {
    await command.run(parsed.positionals, v, io);
    return EXIT.ok;
  } catch (caught) {
    const e = await brokenConfigBehind(caught);
    err(`weft ${key}: ${e instanceof WeftError ? e.message : (e as Error)?.stack ?? e}`);
    if (e instanceof Usage) err(`usage: ${command.usage}`);
    return exitCodeFor(e);
  }
}

/**
 * When no peer answers, a broken config is the likelier cause (a peer
 * refuses to start on one), so that error is the one reported. The config
 * is read only then: reading it loads every plug-in.
 */
async function brokenConfigBehind(e: unknown): Promise<unknown> {
  if (!isWeftError(e, "cli/unreachable") && !isWeftError(e, "cli/no-credentials")) return e;
  try {
    await (await import("../daemon/config.ts")).loadConfig(process.env);
    return e;
  } catch (configError) {
    return isWeftError(configError, "config/invalid") ? configError : e;
  }
}
