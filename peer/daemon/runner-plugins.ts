/**
 * The peer's run backends: one list of runner plug-ins (adding a runner is
 * its folder plus one line here), the `[runners.<kind>]` tables of
 * weft.toml that configure them, and the creation of those this machine
 * can run. A kind not in the list is refused naming the known ones;
 * `enabled = false` in a kind's table turns it off; a kind that cannot run
 * here (tools missing, no sandbox) is skipped with the plug-in's reason.
 *
 * For config.ts: accept a top-level `runners` key in weft.toml and keep
 * `runnersConfig(toml, path)` in the Config.
 */
import { join } from "node:path";
import { WeftError } from "#protocol";
import type { ManagedRunner, RunnerHost, RunnerPlugin } from "#protocol/runner";
import { wasmPeerPlugin } from "../../wasm-runners/plugin.ts";
import { nixPlugin } from "../../bridges/nix/runner.ts";
import { CONTAINER_TOML, containerPlugin } from "../../bridges/containers/plugin.ts";
import type { Logger } from "./logger.ts";

/** Every runner this peer knows, in the order they are created. */
export const RUNNER_PLUGINS: readonly RunnerPlugin<unknown>[] = [
  wasmPeerPlugin as RunnerPlugin<unknown>,
  nixPlugin as RunnerPlugin<unknown>,
  containerPlugin as RunnerPlugin<unknown>,
];

/** The `[runners.*]` part of the weft.toml `weft init` writes. */
export const RUNNERS_TOML = `
# Run backends, one table per kind (${RUNNER_PLUGINS.map((p) => p.kind).join(", ")}); enabled = false turns one off.
[runners.wasm]
# enabled = true
# Keep a sandbox started ahead of the next job, and each sandbox's heap limit.
# warm = true
# heap_mb = 128

[runners.nix]
# enabled = true
# Nix builds and dev-shell commands (bridges/nix/README.md); off by itself where nix-bin is missing.
# max_processes = 1024
# cgroup_root = "/sys/fs/cgroup"
# max_store_mb = 10240   # past this the store is collected after a run; \`weft nix gc\` collects now
${CONTAINER_TOML}`;

/** One runner kind as configured: off, or on with its plug-in's settings (defaults filled in). */
export interface RunnerSetting {
  plugin: RunnerPlugin<unknown>;
  enabled: boolean;
  config: unknown;
}

export type RunnersConfig = RunnerSetting[];

const isTable = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);

function invalid(source: string, key: string, must: string, cause?: unknown): never {
  throw new WeftError("ConfigError", "config/invalid", `${source}: ${key} ${must}`, { cause });
}

/**
 * The runner settings from a parsed weft.toml (the whole document, or
 * undefined without one); `source` names the file in errors. Each kind's
 * table (without `enabled`) is checked by its plug-in; a bad one is
 * refused with a ConfigError (code "config/invalid") naming the key.
 */
export function runnersConfig(
  toml: Record<string, unknown> | undefined,
  source = "weft.toml",
  plugins: readonly RunnerPlugin<unknown>[] = RUNNER_PLUGINS,
): RunnersConfig {
  const table = toml?.runners;
  if (table !== undefined && !isTable(table)) invalid(source, "runners", "must be a table");
  const known = plugins.map((p) => p.kind);
  for (const kind of Object.keys(table ?? {})) {
    if (!known.includes(kind)) {
      invalid(source, `runners.${kind}`, `is not a known runner kind (known: ${known.join(", ")})`);
    }
  }
  return plugins.map((plugin) => {
    const raw = table?.[plugin.kind];
    if (raw !== undefined && !isTable(raw)) invalid(source, `runners.${plugin.kind}`, "must be a table");
    const { enabled = true, ...rest } = raw ?? {};
    if (typeof enabled !== "boolean") invalid(source, `runners.${plugin.kind}.enabled`, "must be true or false");
    try {
      return { plugin, enabled, config: plugin.parseConfig(raw === undefined ? undefined : rest) };
    } catch (e) {
      throw new WeftError("ConfigError", "config/invalid", `${source}: ${(e as Error).message}`, { cause: e });
    }
  });
}

/** Where the peer at `home` keeps its runners' caches. */
export const runnersCacheDir = (home: string): string => join(home, "cache");

/** Where runner `kind` keeps its state (its store, caches, run directories) under the runners' cache dir. */
export const runnerStateDir = (cacheDir: string, kind: string): string => join(cacheDir, kind);

/**
 * Create every enabled runner this machine can run; each keeps its state
 * under `<cacheDir>/<kind>`. Logs why a kind is off or unavailable. A
 * plug-in that throws while probing is logged and skipped, like one that
 * says it cannot run.
 */
export async function createRunners(settings: RunnersConfig, cacheDir: string, log: Logger): Promise<ManagedRunner[]> {
  const runners: ManagedRunner[] = [];
  for (const { plugin, enabled, config } of settings) {
    if (!enabled) {
      log.info(`the ${plugin.kind} runner is turned off (runners.${plugin.kind}.enabled = false)`);
      continue;
    }
    const host: RunnerHost = {
      stateDir: runnerStateDir(cacheDir, plugin.kind),
      log: {
        debug: (m, f) => log.debug(m, { runner: plugin.kind, ...f }),
        info: (m, f) => log.info(m, { runner: plugin.kind, ...f }),
        warn: (m, f) => log.warn(m, { runner: plugin.kind, ...f }),
      },
    };
    let made: ManagedRunner | { unavailable: string };
    try {
      made = await plugin.create(config, host);
    } catch (e) {
      made = { unavailable: `its probe failed: ${(e as Error).message}` };
    }
    if ("unavailable" in made) log.warn(`the ${plugin.kind} runner cannot run here: ${made.unavailable}`);
    else runners.push(made);
  }
  return runners;
}
