/**
 * The `[runners.nix]` table of weft.toml, checked with defaults filled in,
 * and the nix configuration the runner writes for itself (NIX_CONF_DIR
 * under its state dir): sandbox on, no build users (single-user root), no
 * substituters, the flake commands, an empty local flake registry so no
 * flake command reaches for the network, and derivations not kept alive by
 * the outputs a store collection keeps (store-gc.ts). /etc/nix is never read or written.
 */
import { createHash } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { int, list, object, optional, str } from "#protocol/schema";

export interface NixConfig {
  /** Where the cgroup v1 controllers are mounted. */
  cgroupRoot: string;
  /** Processes (and threads) a run may have at once: stops fork bombs. */
  maxProcesses: number;
  /** Host paths the sandbox shows when building a dev shell (`nix develop` needs bash in it). */
  developSandboxPaths: string[];
  /** The directory mounted at /nix for this runner's builds; default `<stateDir>/nix`. */
  storeRoot?: string;
  /** Past this many bytes on disk, the store is collected after a run (store-gc.ts). */
  maxStoreBytes: number;
  /** Source trees kept unpacked for the builds that follow, at most this many bytes (source-cache.ts). */
  maxSourceCacheBytes: number;
  /** Where those trees are unpacked; default: a tmpfs when one has room (sourceCacheDir), else the state dir. */
  sourceCacheDir?: string;
}

/** `[runners.nix]` in weft.toml: snake_case keys, all optional. */
const shape = object({
  cgroup_root: optional(str(1, 1024, /^\//)),
  max_processes: optional(int(16, 1_000_000)),
  develop_sandbox_paths: optional(list(str(1, 1024, /^\/[^\s]*$/), 64)),
  store_root: optional(str(1, 1024, /^\//)),
  max_store_mb: optional(int(1, 1 << 30)),
  source_cache_mb: optional(int(0, 1 << 30)),
  source_cache_dir: optional(str(1, 1024, /^\//)),
});

export function parseNixConfig(raw: unknown): NixConfig {
  const c = shape(raw ?? {}, "runners.nix");
  return {
    cgroupRoot: c.cgroup_root ?? "/sys/fs/cgroup",
    maxProcesses: c.max_processes ?? 1024,
    developSandboxPaths: c.develop_sandbox_paths ?? ["/bin", "/usr", "/lib", "/lib64", "/etc/ld.so.cache"],
    ...(c.store_root !== undefined ? { storeRoot: c.store_root } : {}),
    maxStoreBytes: (c.max_store_mb ?? 10_240) * 1024 * 1024,
    maxSourceCacheBytes: (c.source_cache_mb ?? 1024) * 1024 * 1024,
    ...(c.source_cache_dir !== undefined ? { sourceCacheDir: c.source_cache_dir } : {}),
  };
}

/** Where a runner keeps what, for its state dir: the runner and `weft nix gc` agree through this. */
export interface NixPaths {
  storeRoot: string;
  confDir: string;
  runsDir: string;
  /** Unpacked source trees by CID when no tmpfs takes them (source-cache.ts, sourceCacheDir). */
  sourcesDir: string;
  /** This runner's cgroup group (`weft-nix/<group>/<run>`): a hash of its state dir. */
  cgroupGroup: string;
}

export function nixPaths(config: NixConfig, stateDir: string): NixPaths {
  return {
    storeRoot: config.storeRoot ?? join(stateDir, "nix"),
    confDir: join(stateDir, "conf"),
    runsDir: join(stateDir, "runs"),
    sourcesDir: join(stateDir, "sources"),
    cgroupGroup: createHash("sha256").update(stateDir).digest("hex").slice(0, 16),
  };
}

/** Writes `<dir>/nix.conf` and its flake registry; returns `dir`, the value for NIX_CONF_DIR. */
export async function writeNixConf(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const registry = join(dir, "registry.json");
  await writeFile(registry, JSON.stringify({ flakes: [], version: 2 }));
  await writeFile(
    join(dir, "nix.conf"),
    [
      "# Written by Weft's nix runner; rewritten at every start.",
      "build-users-group =",
      "sandbox = true",
      "substituters =",
      "experimental-features = nix-command flakes",
      `flake-registry = ${registry}`,
      "warn-dirty = false",
      // A kept run's output must not keep its derivation, and with it every source and tool the build read.
      "keep-derivations = false",
      "",
    ].join("\n"),
  );
  return dir;
}
