/**
 * The container runner plug-in: `[runners.container]` is parsed, the
 * isolation backend chosen by trying each (bubblewrap whenever it works,
 * podman where it really runs a container), and the runner made with its
 * caches under the host's state dir — or a plain sentence saying why
 * containers cannot run here.
 */
import { join } from "node:path";
import type { RunnerHost, RunnerPlugin } from "#protocol/runner";
import type { IsolationBackend } from "./backend.ts";
import { BwrapBackend } from "./bwrap-backend.ts";
import { type ContainerConfig, parseContainerConfig } from "./config.ts";
import { ImageCache } from "./image-cache.ts";
import { PodmanBackend, podmanEnv, probePodman } from "./podman-backend.ts";
import { PodmanCounters } from "./podman-counters.ts";
import { probeBwrap } from "./probe.ts";
import { cgroupsUsable, removeParentIfEmpty } from "./cgroup.ts";
import { createContainerRunner } from "./runner.ts";

export { CONTAINER_TOML } from "./config.ts";

/** The backend `config.backend` asks for that works here, or why none does. */
async function chooseBackend(
  config: ContainerConfig,
  stateDir: string,
  host: RunnerHost,
): Promise<IsolationBackend | { unavailable: string }> {
  const why: string[] = [];
  if (config.backend !== "podman") {
    const bwrap = await probeBwrap(config.cgroupParent);
    if (bwrap === undefined) {
      return new BwrapBackend(new ImageCache(join(stateDir, "images"), config.maxImageMb * 1024 * 1024), config);
    }
    why.push(`bubblewrap: ${bwrap}`);
  }
  if (config.backend !== "bwrap") {
    const dir = join(stateDir, "podman");
    const podman = await cgroupsUsable(config.cgroupParent) ?? await probePodman(dir);
    if (podman === undefined) {
      return new PodmanBackend(
        dir,
        await podmanEnv(dir),
        config,
        await PodmanCounters.create(dir, config.cgroupParent),
      );
    }
    why.push(`podman: ${podman}`);
  }
  host.log.debug("no container isolation works here", { why });
  return { unavailable: `no isolation backend works here (${why.join("; ")})` };
}

export const containerPlugin: RunnerPlugin<ContainerConfig> = {
  kind: "container",
  description: "OCI images run rootless in bubblewrap (or podman with runc): needs bwrap or podman, and cgroup v1",
  parseConfig: parseContainerConfig,
  async create(config, host) {
    if (!host.stateDir) return { unavailable: "containers need a state directory on disk (not in a browser)" };
    const backend = await chooseBackend(config, host.stateDir, host);
    if ("unavailable" in backend) {
      await removeParentIfEmpty(config.cgroupParent); // the probes made it
      return backend;
    }
    host.log.info(`container runner: ${backend.name} isolation`);
    return createContainerRunner(backend, {
      runsDir: join(host.stateDir, "runs"),
      stopGraceMs: config.stopGraceMs,
      cgroupParent: config.cgroupParent,
    });
  },
};
