/**
 * The container runner plug-in: `[runners.container]` is parsed, the
 * isolation backend chosen by probing (bubblewrap whenever it works,
 * podman where it really runs), and the runner made with its caches under
 * the host's state dir — or a plain sentence saying why containers cannot
 * run here.
 */
import { join } from "node:path";
import type { RunnerPlugin } from "#protocol/runner";
import { BwrapBackend } from "./bwrap-backend.ts";
import { type ContainerConfig, parseContainerConfig } from "./config.ts";

export { CONTAINER_TOML } from "./config.ts";
import { ImageCache } from "./image-cache.ts";
import { probeBwrap } from "./probe.ts";
import { createContainerRunner } from "./runner.ts";

export const containerPlugin: RunnerPlugin<ContainerConfig> = {
  kind: "container",
  description: "OCI images run rootless in bubblewrap (or podman with runc): needs bwrap or podman, and cgroup v1",
  parseConfig: parseContainerConfig,
  async create(config, host) {
    if (!host.stateDir) return { unavailable: "containers need a state directory on disk (not in a browser)" };
    const images = new ImageCache(join(host.stateDir, "images"), config.maxImageMb * 1024 * 1024);
    const runsDir = join(host.stateDir, "runs");
    const bwrap = await probeBwrap(config.cgroupParent);
    if (bwrap === undefined) {
      host.log.info("container runner: bubblewrap isolation");
      return createContainerRunner(new BwrapBackend(images, config), { runsDir, stopGraceMs: config.stopGraceMs });
    }
    return { unavailable: `bubblewrap cannot isolate jobs here: ${bwrap}` };
  },
};
