/**
 * The peer's configuration: embedded defaults, then `weft.toml` in the data
 * dir, then `WEFT_*` environment variables. Every value is validated, and a
 * bad one is refused with an error naming where it came from and the key:
 * `weft.toml: http.port must be an integer from 0 to 65535`.
 */
import { readFile } from "node:fs/promises";
import { availableParallelism, hostname } from "node:os";
import { join } from "node:path";
import { parse as parseToml } from "smol-toml";
import { WeftError } from "#protocol";
import { dataDirFromEnv } from "../data-dir.ts";
import { ARTIFACTS_TOML, type ArtifactsConfig, artifactsConfig, isArtifactsEnv } from "./artifacts-config.ts";
import { InvalidInput, nameProblem } from "#protocol/schema";
import { BRIDGE_NAME, type BridgeKind } from "#protocol/bridge";
import { BRIDGES } from "../../bridges/registry.ts";
import { KUBERNETES_TOML } from "../../bridges/kubernetes/config.ts";
import { RUNNERS_TOML, type RunnersConfig, runnersConfig } from "./runner-plugins.ts";
import { AGENT_NAME } from "#protocol/agents";
import type { LlmSettings } from "#protocol/llm";
import { LLM_TOML, llmConfig } from "../llm/config.ts";

export type LogLevel = "debug" | "info" | "warn" | "error";

export interface Config {
  /** The data dir: identity, documents, CLI credentials. */
  home: string;
  name: string;
  /** The API and dashboard; `editorPort`: run editors' own origin, bound on the same host (0: the OS picks). */
  http: { host: string; port: number; editorPort: number };
  p2p: { listen: string[]; bootstrap: string[] };
  log: { level: LogLevel };
  /** When run as a relay: only carry these spaces (empty: any member's). */
  relay: { spaces: string[] };
  /** What this node offers to run, as advertised to its spaces. */
  capacity: {
    /** Jobs it runs at once (0: it runs none). */
    slots: number;
    gpus: number;
    /** Tags placement selects on: `gpu`, `region=eu`, `arch=arm64`, … */
    tags: string[];
    /** How often it advertises; adverts live three times as long. */
    advertiseSeconds: number;
  };
  scheduler: {
    /** How long a claim holds before it must be renewed; a dead node's jobs are placed again after this. */
    leaseSeconds: number;
    /** Lapsed claims (crashes) after which a job is quarantined: marked failed, never placed again. */
    maxCrashes: number;
  };
  /** Where artifacts go: the local store always, and an S3-compatible bucket when one is configured. */
  artifacts: ArtifactsConfig;
  /** Each runner kind: on or off, and its `[runners.<kind>]` settings (runner-plugins.ts). */
  runners: RunnersConfig;
  /** Where traces go: an OTLP/HTTP traces URL; none means no tracing (tracing.ts). */
  telemetry: { otlpEndpoint?: string };
  /** The bridges to run, in the order weft.toml names them (`[bridges.<name>]`). */
  bridges: BridgeSetting[];
  /** Model providers, routes and prices for agents (`[llm]`); none when weft.toml has no `[llm]`. */
  llm?: LlmSettings;
  /** Agents whose loops start with this peer (`[agents] run`), and the lease each holds on its task. */
  agents: { run: string[]; leaseSeconds: number };
}

/** One `[bridges.<name>]` table: the bridge kind and its settings, already checked by the kind. */
export interface BridgeSetting {
  name: string;
  kind: BridgeKind;
  config: unknown;
}

export class ConfigError extends WeftError {
  constructor(message: string) {
    super("ConfigError", "config/invalid", message);
  }
}

export const DEFAULTS = {
  http: { host: "127.0.0.1", port: 7777, editorPort: 0 },
  p2p: { listen: ["/ip4/127.0.0.1/tcp/7778", "/ip4/127.0.0.1/tcp/7779/ws"], bootstrap: [] as string[] },
  log: { level: "info" as LogLevel },
  capacity: { gpus: 0, advertiseSeconds: 30 },
  scheduler: { leaseSeconds: 30, maxCrashes: 2 },
  agents: { leaseSeconds: 60 },
};

const LEVELS: LogLevel[] = ["debug", "info", "warn", "error"];

function fail(source: string, key: string, must: string): never {
  throw new ConfigError(`${source}: ${key} ${must}`);
}

function integer(v: unknown, source: string, key: string, min: number, max: number): number {
  const n = typeof v === "string" && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== "number" || !Number.isInteger(n) || n < min || n > max) {
    fail(source, key, `must be an integer from ${min} to ${max}`);
  }
  return n;
}

function port(v: unknown, source: string, key: string): number {
  return integer(v, source, key, 0, 65535);
}

function text(v: unknown, source: string, key: string, max = 253): string {
  if (typeof v !== "string" || v.length === 0 || v.length > max || /\s/.test(v) || nameProblem(v, max)) {
    fail(source, key, `must be a non-empty string without spaces or control characters (at most ${max} characters)`);
  }
  return v;
}

function addresses(v: unknown, source: string, key: string): string[] {
  const items = typeof v === "string" ? v.split(",").map((s) => s.trim()).filter(Boolean) : v;
  if (!Array.isArray(items) || items.length > 32) fail(source, key, "must be a list of at most 32 addresses");
  return items.map((a, i) => {
    const s = text(a, source, `${key}[${i}]`, 1024);
    if (!s.startsWith("/") && !/^wss?:\/\//.test(s)) fail(source, `${key}[${i}]`, "must be a multiaddr or a ws:// URL");
    return s;
  });
}

/** An OTLP/HTTP traces endpoint, e.g. http://127.0.0.1:4318/v1/traces. */
function otlpEndpoint(v: unknown, source: string, key: string): string {
  const s = text(v, source, key, 2048);
  if (!/^https?:\/\/[^/?#]+(\/[^?#]*)?$/.test(s)) {
    fail(source, key, "must be an http(s) URL, e.g. http://127.0.0.1:4318/v1/traces");
  }
  return s;
}

function level(v: unknown, source: string, key: string): LogLevel {
  if (!LEVELS.includes(v as LogLevel)) fail(source, key, `must be one of ${LEVELS.join(", ")}`);
  return v as LogLevel;
}

function tags(v: unknown, source: string, key: string): string[] {
  const items = typeof v === "string" ? v.split(",").map((s) => s.trim()).filter(Boolean) : v;
  if (!Array.isArray(items) || items.length > 64) fail(source, key, "must be a list of at most 64 tags");
  return items.map((t, i) => {
    if (typeof t !== "string" || !/^[^\s=!]{1,64}(=[^\s]{1,63})?$/.test(t)) {
      fail(source, `${key}[${i}]`, "must be a tag like gpu or region=eu (no spaces, no !)");
    }
    return t;
  });
}

/** Agents' names (protocol/agents' AGENT_NAME). */
function agentNames(v: unknown, source: string, key: string): string[] {
  if (!Array.isArray(v) || v.length > 64) fail(source, key, 'must be a list of agent names, e.g. ["ada"]');
  return [
    ...new Set(v.map((n, i) => {
      if (typeof n !== "string" || !AGENT_NAME.test(n)) {
        fail(source, `${key}[${i}]`, `must be an agent's name (${AGENT_NAME})`);
      }
      return n;
    })),
  ];
}

const KNOWN: Record<string, string[]> = {
  "": [
    "name",
    "http",
    "p2p",
    "log",
    "relay",
    "capacity",
    "scheduler",
    "artifacts",
    "runners",
    "telemetry",
    "bridges",
    "llm",
    "agents",
  ],
  http: ["host", "port", "editor_port"],
  p2p: ["listen", "bootstrap"],
  log: ["level"],
  relay: ["spaces"],
  capacity: ["slots", "gpus", "tags", "advertise_seconds"],
  scheduler: ["lease_seconds", "max_crashes"],
  telemetry: ["otlp_endpoint"],
  agents: ["run", "lease_seconds"],
  // artifacts: checked by artifacts-config.ts; runners: by runner-plugins.ts; bridges: by bridgeSettings below;
  // llm: by peer/llm/config.ts
};

function dids(v: unknown, source: string, key: string): string[] {
  const items = typeof v === "string" ? v.split(",").map((s) => s.trim()).filter(Boolean) : v;
  if (!Array.isArray(items) || items.length > 1024) fail(source, key, "must be a list of space DIDs");
  return items.map((d, i) => {
    if (typeof d !== "string" || !/^did:key:z[1-9A-HJ-NP-Za-km-z]{40,60}$/.test(d)) {
      fail(source, `${key}[${i}]`, "must be a did:key");
    }
    return d;
  });
}

/** Apply a parsed weft.toml over `config`; unknown keys are errors, not silently ignored. */
function applyToml(config: Config, toml: Record<string, unknown>, source: string): void {
  for (const [section, keys] of Object.entries(KNOWN)) {
    const table = section === "" ? toml : toml[section];
    if (table === undefined) continue;
    if (typeof table !== "object" || table === null || Array.isArray(table)) fail(source, section, "must be a table");
    for (const k of Object.keys(table)) {
      if (!keys.includes(k)) fail(source, section ? `${section}.${k}` : k, "is not a known setting");
    }
  }
  const t = toml as Record<string, Record<string, unknown> | undefined> & { name?: unknown };
  if (t.name !== undefined) config.name = text(t.name, source, "name", 64);
  if (t.http?.host !== undefined) config.http.host = text(t.http.host, source, "http.host");
  if (t.http?.port !== undefined) config.http.port = port(t.http.port, source, "http.port");
  const editorPort = t.http?.editor_port;
  if (editorPort !== undefined) config.http.editorPort = port(editorPort, source, "http.editor_port");
  if (t.p2p?.listen !== undefined) config.p2p.listen = addresses(t.p2p.listen, source, "p2p.listen");
  if (t.p2p?.bootstrap !== undefined) config.p2p.bootstrap = addresses(t.p2p.bootstrap, source, "p2p.bootstrap");
  if (t.log?.level !== undefined) config.log.level = level(t.log.level, source, "log.level");
  if (t.relay?.spaces !== undefined) config.relay.spaces = dids(t.relay.spaces, source, "relay.spaces");
  const c = t.capacity;
  if (c?.slots !== undefined) config.capacity.slots = integer(c.slots, source, "capacity.slots", 0, 4096);
  if (c?.gpus !== undefined) config.capacity.gpus = integer(c.gpus, source, "capacity.gpus", 0, 1024);
  if (c?.tags !== undefined) config.capacity.tags = tags(c.tags, source, "capacity.tags");
  if (c?.advertise_seconds !== undefined) {
    config.capacity.advertiseSeconds = integer(c.advertise_seconds, source, "capacity.advertise_seconds", 1, 200);
  }
  const lease = t.scheduler?.lease_seconds;
  if (lease !== undefined) config.scheduler.leaseSeconds = integer(lease, source, "scheduler.lease_seconds", 1, 3600);
  const crashes = t.scheduler?.max_crashes;
  if (crashes !== undefined) config.scheduler.maxCrashes = integer(crashes, source, "scheduler.max_crashes", 1, 100);
  if (t.agents?.run !== undefined) config.agents.run = agentNames(t.agents.run, source, "agents.run");
  const agentLease = t.agents?.lease_seconds;
  if (agentLease !== undefined) {
    config.agents.leaseSeconds = integer(agentLease, source, "agents.lease_seconds", 5, 3600);
  }
  const otlp = t.telemetry?.otlp_endpoint;
  if (otlp !== undefined) config.telemetry.otlpEndpoint = otlpEndpoint(otlp, source, "telemetry.otlp_endpoint");
  if (toml.bridges !== undefined) config.bridges = bridgeSettings(toml.bridges, source);
}

// ---- [bridges.<name>] ----

/**
 * The `[bridges]` tables: each names a known bridge kind (others are refused
 * with the known names) and holds that kind's settings, which the kind
 * itself checks. A bridge with no settings is written `[bridges.example]`.
 */
function bridgeSettings(v: unknown, source: string): BridgeSetting[] {
  if (typeof v !== "object" || v === null || Array.isArray(v)) fail(source, "bridges", "must be a table");
  const known = [...BRIDGES.keys()].join(", ") || "none";
  return Object.entries(v).map(([name, table]) => {
    const kind = BRIDGE_NAME.test(name) ? BRIDGES.get(name) : undefined;
    if (!kind) fail(source, `bridges.${name}`, `is not a known bridge (known: ${known})`);
    if (typeof table !== "object" || table === null || Array.isArray(table)) {
      fail(source, `bridges.${name}`, "must be a table");
    }
    try {
      return { name, kind, config: kind.configure(table as Record<string, unknown>) };
    } catch (e) {
      if (e instanceof InvalidInput) fail(source, `bridges.${name}.${e.field}`, e.message.slice(e.field.length + 1));
      throw e;
    }
  });
}

const ENV: Record<string, (c: Config, v: string, key: string) => void> = {
  WEFT_NAME: (c, v, k) => void (c.name = text(v, "environment", k, 64)),
  WEFT_HTTP_HOST: (c, v, k) => void (c.http.host = text(v, "environment", k)),
  WEFT_HTTP_PORT: (c, v, k) => void (c.http.port = port(v, "environment", k)),
  WEFT_HTTP_EDITOR_PORT: (c, v, k) => void (c.http.editorPort = port(v, "environment", k)),
  WEFT_P2P_LISTEN: (c, v, k) => void (c.p2p.listen = addresses(v, "environment", k)),
  WEFT_BOOTSTRAP: (c, v, k) => void (c.p2p.bootstrap = addresses(v, "environment", k)),
  WEFT_LOG_LEVEL: (c, v, k) => void (c.log.level = level(v, "environment", k)),
  WEFT_RELAY_SPACES: (c, v, k) => void (c.relay.spaces = dids(v, "environment", k)),
  WEFT_SLOTS: (c, v, k) => void (c.capacity.slots = integer(v, "environment", k, 0, 4096)),
  WEFT_GPUS: (c, v, k) => void (c.capacity.gpus = integer(v, "environment", k, 0, 1024)),
  WEFT_TAGS: (c, v, k) => void (c.capacity.tags = tags(v, "environment", k)),
  WEFT_ADVERTISE_SECONDS: (c, v, k) => void (c.capacity.advertiseSeconds = integer(v, "environment", k, 1, 200)),
  WEFT_LEASE_SECONDS: (c, v, k) => void (c.scheduler.leaseSeconds = integer(v, "environment", k, 1, 3600)),
  WEFT_MAX_CRASHES: (c, v, k) => void (c.scheduler.maxCrashes = integer(v, "environment", k, 1, 100)),
  WEFT_OTLP_ENDPOINT: (c, v, k) => void (c.telemetry.otlpEndpoint = otlpEndpoint(v, "environment", k)),
};
/** WEFT_* variables read elsewhere (the CLI, the Deno relay, tests and benchmarks). */
const ENV_OTHER = new Set([
  "WEFT_HOME",
  "WEFT_SPACE",
  "WEFT_RELAY_KEY",
  "WEFT_RELAY_KV",
  "WEFT_PROPERTY_RUNS",
  "WEFT_BENCH_TASKS",
  "WEFT_BENCH_OPS",
  "WEFT_BENCH_SPACES",
  "WEFT_BENCH_CLIENTS_PER_SPACE",
]);

export async function loadConfig(env: Record<string, string | undefined>): Promise<Config> {
  const home = dataDirFromEnv(env);
  const config: Config = {
    home,
    name: hostname().slice(0, 64).replace(/\s/g, "-") || "weft",
    http: { ...DEFAULTS.http },
    p2p: { listen: [...DEFAULTS.p2p.listen], bootstrap: [] },
    log: { ...DEFAULTS.log },
    relay: { spaces: [] },
    capacity: { ...DEFAULTS.capacity, slots: availableParallelism(), tags: [] },
    scheduler: { ...DEFAULTS.scheduler },
    artifacts: {},
    runners: [],
    telemetry: {},
    bridges: [],
    agents: { run: [], leaseSeconds: DEFAULTS.agents.leaseSeconds },
  };
  const path = join(home, "weft.toml");
  let raw: string | undefined;
  try {
    raw = await readFile(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") {
      throw new ConfigError(`cannot read ${path}: ${(e as Error).message}`);
    }
  }
  let toml: Record<string, unknown> | undefined;
  if (raw !== undefined) {
    try {
      toml = parseToml(raw) as Record<string, unknown>;
    } catch (e) {
      throw new ConfigError(`${path} is not valid TOML: ${(e as Error).message.split("\n")[0]}`);
    }
    applyToml(config, toml, path);
  }
  config.artifacts = artifactsConfig(toml, env, path);
  config.runners = runnersConfig(toml, path);
  const llm = llmConfig(toml, path);
  if (llm) config.llm = llm;
  for (const [key, value] of Object.entries(env)) {
    if (!key.startsWith("WEFT_") || value === undefined) continue;
    const apply = ENV[key];
    if (apply) apply(config, value, key);
    else if (!ENV_OTHER.has(key) && !isArtifactsEnv(key)) {
      throw new ConfigError(`environment: ${key} is not a known setting`);
    }
  }
  return config;
}

/** The weft.toml `weft init` writes: every setting, commented, at its default. */
export function defaultToml(name: string): string {
  return `# Weft peer configuration. Environment variables WEFT_* override these.
name = ${JSON.stringify(name)}

[http]
# The HTTP API and dashboard. Keep it on loopback unless you put TLS in front.
host = "${DEFAULTS.http.host}"
port = ${DEFAULTS.http.port}
# Run editors (code-server, bridges/kubernetes) are served from their own origin: this port on the same host,
# so nothing an editor's pages run can reach the dashboard's keys. 0: the OS picks one (the dashboard is told).
editor_port = ${DEFAULTS.http.editorPort}

[p2p]
listen = [${DEFAULTS.p2p.listen.map((a) => JSON.stringify(a)).join(", ")}]
# Peers to keep connected to: multiaddrs (/ip4/…/tcp/…/p2p/…) or ws:// URLs.
bootstrap = []

[log]
level = "info"

[capacity]
# Jobs run at once (default: one per core; 0 runs none), GPUs offered, and
# tags jobs can select on (gpu, region=eu, arch=arm64, …).
# slots = 4
gpus = ${DEFAULTS.capacity.gpus}
tags = []
# Adverts go out this often and lapse after three periods.
advertise_seconds = ${DEFAULTS.capacity.advertiseSeconds}

[scheduler]
# A job's lease; a node that dies loses its jobs to others after this long.
lease_seconds = ${DEFAULTS.scheduler.leaseSeconds}
# A job whose claims end without a result this often (its node crashed or was killed) is marked failed for good.
max_crashes = ${DEFAULTS.scheduler.maxCrashes}

[telemetry]
# OpenTelemetry traces over OTLP/HTTP (API → space → scheduler → runner → artifact store); off when unset.
# otlp_endpoint = "http://127.0.0.1:4318/v1/traces"
${ARTIFACTS_TOML}${RUNNERS_TOML}${LLM_TOML}
[agents]
# Agents this peer runs (weft agent add) whose loops start with it and pick eligible tasks by themselves;
# \`weft agent add NAME --run\` does the same for one agent. \`weft agent status\` shows what each is doing.
run = []
# The lease an agent holds on its task, renewed every third of it while it works: a peer that dies
# gives the task back after this long.
lease_seconds = ${DEFAULTS.agents.leaseSeconds}
# Bridges to outside systems, each acting as its own DID with what members grant it
# (see bridges/README.md). Known: ${[...BRIDGES.keys()].join(", ")}.
# [bridges.example]
# label = "seen-by-bridge"
${KUBERNETES_TOML}`;
}
