/**
 * `[runners.container]` in weft.toml: which isolation backend to use, the
 * CPU share and process count every job gets, the biggest image this node
 * will unpack, and how long a stopped job has to exit before it is killed.
 * Checked at the boundary, defaults filled in, unknown keys refused.
 */
import { int, num, object, oneOf, optional, str } from "#protocol/schema";

export type Isolation = "bwrap" | "podman";

export interface ContainerConfig {
  /** "auto" prefers bubblewrap and falls back to podman. */
  backend: "auto" | Isolation;
  /** CPU cores each job may use (a cgroup CFS quota). */
  cpus: number;
  /** Processes and threads each job may have at once (the pids cgroup). */
  pids: number;
  /** Largest OCI archive this node unpacks, in MB. */
  maxImageMb: number;
  /** How long a stopped job has between SIGTERM and SIGKILL, in ms. */
  stopGraceMs: number;
  /** cgroup v1 directory (under each controller) that runs' groups are made in. */
  cgroupParent: string;
}

/** The table's keys, as weft.toml spells them. */
const shape = object({
  backend: optional(oneOf("auto", "bwrap", "podman")),
  cpus: optional(num(0.01, 1024)),
  pids: optional(int(8, 1_000_000)),
  max_image_mb: optional(int(1, 1024 * 1024)),
  stop_grace_ms: optional(int(0, 60_000)),
  cgroup_parent: optional(str(1, 64, /^[A-Za-z0-9_.-]+$/)),
});

export function parseContainerConfig(raw: unknown): ContainerConfig {
  const c = shape(raw ?? {}, "runners.container");
  return {
    backend: c.backend ?? "auto",
    cpus: c.cpus ?? 1,
    pids: c.pids ?? 256,
    maxImageMb: c.max_image_mb ?? 2048,
    stopGraceMs: c.stop_grace_ms ?? 2000,
    cgroupParent: c.cgroup_parent ?? "weft",
  };
}

/** The `[runners.container]` table `weft init` writes, every setting at its default. */
export const CONTAINER_TOML = `
[runners.container]
# enabled = true
# Isolation: "auto" (bubblewrap when it works, else podman), "bwrap" or "podman".
# backend = "auto"
# CPU cores and processes each job may use; the largest image unpacked; SIGTERM-to-SIGKILL grace.
# cpus = 1
# pids = 256
# max_image_mb = 2048
# stop_grace_ms = 2000
# cgroup v1 directory the jobs' groups are made in (under each controller).
# cgroup_parent = "weft"
`;
