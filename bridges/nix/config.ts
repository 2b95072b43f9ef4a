/**
 * The `[runners.nix]` table of weft.toml, checked with defaults filled in,
 * and the nix configuration the runner writes for itself (NIX_CONF_DIR
 * under its state dir): sandbox on, no build users (single-user root), no
 * substituters, the flake commands, and an empty local flake registry so no
 * flake command reaches for the network. /etc/nix is never read or written.
 */
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
}

/** `[runners.nix]` in weft.toml: snake_case keys, all optional. */
const shape = object({
  cgroup_root: optional(str(1, 1024, /^\//)),
  max_processes: optional(int(16, 1_000_000)),
  develop_sandbox_paths: optional(list(str(1, 1024, /^\/[^\s]*$/), 64)),
  store_root: optional(str(1, 1024, /^\//)),
});

export function parseNixConfig(raw: unknown): NixConfig {
  const c = shape(raw ?? {}, "runners.nix");
  return {
    cgroupRoot: c.cgroup_root ?? "/sys/fs/cgroup",
    maxProcesses: c.max_processes ?? 1024,
    developSandboxPaths: c.develop_sandbox_paths ?? ["/bin", "/usr", "/lib", "/lib64", "/etc/ld.so.cache"],
    ...(c.store_root !== undefined ? { storeRoot: c.store_root } : {}),
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
      "",
    ].join("\n"),
  );
  return dir;
}
