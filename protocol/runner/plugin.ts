/**
 * The runner plug-in contract: how a shell (daemon or browser) discovers,
 * configures, creates, warms up and closes a run backend without knowing
 * which one it is. Each backend (wasm in wasm-runners/, nix in bridges/nix/,
 * containers in bridges/containers/) exports one RunnerPlugin; the peer's
 * registry is one list of them, and `[runners.<kind>]` in weft.toml
 * configures each.
 */
import type { Runner } from "./runner.ts";

/** Fields attached to a runner's own log events. */
export type RunnerLogFields = Record<string, unknown>;

/** What a shell gives a runner plug-in. */
export interface RunnerHost {
  /** A directory the runner may keep caches and state in; absent in a browser. */
  stateDir?: string;
  /** The runner's own events (not its jobs' logs). */
  log: {
    debug(m: string, f?: RunnerLogFields): void;
    info(m: string, f?: RunnerLogFields): void;
    warn(m: string, f?: RunnerLogFields): void;
  };
}

export interface RunnerPlugin<Config = unknown> {
  /** The run spec's `runner` value, the `[runners.<kind>]` table in weft.toml, and `/weft/run/<kind>`. */
  readonly kind: string;
  /** One line for people: what it runs and what it needs. */
  readonly description: string;
  /** Validates `[runners.<kind>]` (undefined when absent) and returns defaults filled in; throws WeftError naming the key. */
  parseConfig(raw: unknown): Config;
  /** Probes the machine (tools present? sandbox usable?) and makes the runner, or says plainly why it cannot run here. */
  create(config: Config, host: RunnerHost): Promise<ManagedRunner | { unavailable: string }>;
}

/** The existing Runner (kind, available(), start(spec, store) → RunHandle with logs/done/stop) plus a lifecycle. */
export interface ManagedRunner extends Runner {
  /** What it advertises beside its kind, kept small: e.g. { isolation: "bwrap" } or { system: "x86_64-linux" }. */
  advertise(): Record<string, string | number | boolean>;
  /**
   * Call `listener` whenever what advertise() says changed outside a run's start
   * and end (a cluster's spare capacity read afresh), so the node advertises
   * again at once; returns the unsubscribe. Runners whose details never change omit it.
   */
  onAdvertChange?(listener: () => void): () => void;
  /** Slow first-time work (compile caches, image checks), run after start without blocking it. */
  warmUp(): Promise<void>;
  /** Stops every run and frees resources; idempotent. */
  close(): Promise<void>;
}
