/**
 * The peer's configuration: embedded defaults, then `weft.toml` in the data
 * dir, then `WEFT_*` environment variables. Every value is validated, and a
 * bad one is refused with an error naming where it came from and the key:
 * `weft.toml: http.port must be an integer from 0 to 65535`.
 */
import { readFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { parse as parseToml } from "smol-toml";
import { WeftError } from "../../protocol/errors.ts";
import { dataDirFromEnv } from "../data-dir.ts";

export type LogLevel = "debug" | "info" | "warn" | "error";

export interface Config {
  /** The data dir: identity, documents, CLI credentials. */
  home: string;
  name: string;
  http: { host: string; port: number };
  p2p: { listen: string[]; bootstrap: string[] };
  log: { level: LogLevel };
  /** When run as a relay: only carry these spaces (empty: any member's). */
  relay: { spaces: string[] };
}

export class ConfigError extends WeftError {
  constructor(message: string) {
    super("ConfigError", "config/invalid", message);
  }
}

export const DEFAULTS = {
  http: { host: "127.0.0.1", port: 7777 },
  p2p: { listen: ["/ip4/127.0.0.1/tcp/7778", "/ip4/127.0.0.1/tcp/7779/ws"], bootstrap: [] as string[] },
  log: { level: "info" as LogLevel },
};

const LEVELS: LogLevel[] = ["debug", "info", "warn", "error"];

function fail(source: string, key: string, must: string): never {
  throw new ConfigError(`${source}: ${key} ${must}`);
}

function port(v: unknown, source: string, key: string): number {
  const n = typeof v === "string" && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0 || n > 65535) {
    fail(source, key, "must be an integer from 0 to 65535");
  }
  return n;
}

function text(v: unknown, source: string, key: string, max = 253): string {
  if (typeof v !== "string" || v.length === 0 || v.length > max || /\s/.test(v)) {
    fail(source, key, `must be a non-empty string without spaces (at most ${max} characters)`);
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

function level(v: unknown, source: string, key: string): LogLevel {
  if (!LEVELS.includes(v as LogLevel)) fail(source, key, `must be one of ${LEVELS.join(", ")}`);
  return v as LogLevel;
}

const KNOWN: Record<string, string[]> = {
  "": ["name", "http", "p2p", "log", "relay"],
  http: ["host", "port"],
  p2p: ["listen", "bootstrap"],
  log: ["level"],
  relay: ["spaces"],
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
  if (t.p2p?.listen !== undefined) config.p2p.listen = addresses(t.p2p.listen, source, "p2p.listen");
  if (t.p2p?.bootstrap !== undefined) config.p2p.bootstrap = addresses(t.p2p.bootstrap, source, "p2p.bootstrap");
  if (t.log?.level !== undefined) config.log.level = level(t.log.level, source, "log.level");
  if (t.relay?.spaces !== undefined) config.relay.spaces = dids(t.relay.spaces, source, "relay.spaces");
}

const ENV: Record<string, (c: Config, v: string, key: string) => void> = {
  WEFT_NAME: (c, v, k) => void (c.name = text(v, "environment", k, 64)),
  WEFT_HTTP_HOST: (c, v, k) => void (c.http.host = text(v, "environment", k)),
  WEFT_HTTP_PORT: (c, v, k) => void (c.http.port = port(v, "environment", k)),
  WEFT_P2P_LISTEN: (c, v, k) => void (c.p2p.listen = addresses(v, "environment", k)),
  WEFT_BOOTSTRAP: (c, v, k) => void (c.p2p.bootstrap = addresses(v, "environment", k)),
  WEFT_LOG_LEVEL: (c, v, k) => void (c.log.level = level(v, "environment", k)),
  WEFT_RELAY_SPACES: (c, v, k) => void (c.relay.spaces = dids(v, "environment", k)),
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
  if (raw !== undefined) {
    let toml: Record<string, unknown>;
    try {
      toml = parseToml(raw) as Record<string, unknown>;
    } catch (e) {
      throw new ConfigError(`${path} is not valid TOML: ${(e as Error).message.split("\n")[0]}`);
    }
    applyToml(config, toml, path);
  }
  for (const [key, value] of Object.entries(env)) {
    if (!key.startsWith("WEFT_") || value === undefined) continue;
    const apply = ENV[key];
    if (apply) apply(config, value, key);
    else if (!ENV_OTHER.has(key)) throw new ConfigError(`environment: ${key} is not a known setting`);
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

[p2p]
listen = [${DEFAULTS.p2p.listen.map((a) => JSON.stringify(a)).join(", ")}]
# Peers to keep connected to: multiaddrs (/ip4/…/tcp/…/p2p/…) or ws:// URLs.
bootstrap = []

[log]
level = "info"
`;
}
