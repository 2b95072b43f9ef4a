/**
 * The podman backend, for machines where podman really runs (as root, with
 * runc: crun fails on hybrid cgroups). The runner writes podman's config
 * itself under its state dir — the vfs storage driver, the cgroupfs
 * manager, file events, no default ulimits (root here cannot raise them) —
 * and never reads or edits /etc/containers. Images are loaded from their
 * OCI archive once, tagged by digest and mounted; each job runs on that
 * mounted rootfs (`--rootfs`, read-only), since with the vfs driver a
 * container made from the image would copy all of it first (~20 s for the
 * Debian base here, against ~0.5 s). Each job runs read-only with no
 * capabilities, no new privileges, lowered nofile/nproc/fsize ulimits,
 * memory, CPU and pids limits on a cgroup v1 parent the runner made (as for
 * bubblewrap), and no network unless allowed.
 */
import { mkdir, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { WeftError } from "#protocol";
import type { ContentStore } from "#protocol/runner";
import { fetchVerified } from "../../wasm-runners/core/content.ts";
import { type IsolationBackend, jobEnv, type JobPlan, PORTS_DIR, type Sandbox } from "./backend.ts";
import { JobCgroup } from "./cgroup.ts";
import type { ContainerConfig } from "./config.ts";
import { imageCid } from "./image-cache.ts";
import type { PodmanCounters } from "./podman-counters.ts";
import { mustRun, runTool } from "./tool.ts";

/**
 * Write podman's config under `dir`; returns the environment every podman command runs with. The runner keeps
 * vfs (it mounts images and runs them with --rootfs); image builds want overlay, which shares layers.
 */
export async function podmanEnv(dir: string, driver: "vfs" | "overlay" = "vfs"): Promise<NodeJS.ProcessEnv> {
  await mkdir(join(dir, "root"), { recursive: true });
  await mkdir(join(dir, "run"), { recursive: true });
  await writeFile(
    join(dir, "storage.conf"),
    `[storage]\ndriver = "${driver}"\nrunroot = ${JSON.stringify(join(dir, "run"))}\ngraphroot = ${
      JSON.stringify(join(dir, "root"))
    }\n`,
  );
  await writeFile(
    join(dir, "containers.conf"),
    '[containers]\ndefault_ulimits = []\n[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\nruntime = "runc"\n',
  );
  return {
    PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin",
    HOME: dir,
    CONTAINERS_STORAGE_CONF: join(dir, "storage.conf"),
    CONTAINERS_CONF: join(dir, "containers.conf"),
  };
}

/** Ulimits lower than root's hard limits (root here cannot raise them). */
const LOWERED_ULIMITS = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1000:1000"];

/** The flags every podman run gets here: runc, and lowered ulimits. */
export const BASE_RUN = ["--runtime", "runc", ...LOWERED_ULIMITS];

/** Undefined when podman runs a container here with the runner's config; otherwise why not. */
export async function probePodman(dir: string): Promise<string | undefined> {
  const env = await podmanEnv(dir);
  const rootfs = join(dir, "probe-rootfs");
  await rm(rootfs, { recursive: true, force: true });
  for (const d of ["usr", "proc", "dev", "sys", "etc", "tmp"]) await mkdir(join(rootfs, d), { recursive: true });
  // The host's /usr is bound in; the merged-/usr links make its dynamic loader and libraries resolve.
  for (const l of ["bin", "lib", "lib64", "sbin"]) await symlink(`usr/${l}`, join(rootfs, l));
  const r = await runTool("podman", [
    "run",
    "--rm",
    ...BASE_RUN,
    "--network",
    "none",
    "-v",
    "/usr:/usr:ro",
    "--rootfs",
    rootfs,
    "/usr/bin/true",
  ], { env, timeoutMs: 60_000 });
  if (r.code === 0) return undefined;
  return `podman run failed: ${r.stderr.trim().split("\n").pop() || `exit code ${r.code}`}`;
}

interface PodmanImage {
  /** The image's files, mounted read-only by podman. */
  rootfs: string;
  env: string[];
  /** Entrypoint then command. */
  argv: string[];
  workingDir: string;
}

export class PodmanBackend implements IsolationBackend {
  readonly name = "podman" as const;
  readonly #env: NodeJS.ProcessEnv;
  readonly #dir: string;
  readonly #config: ContainerConfig;
  readonly #counters: PodmanCounters;
  readonly #loading = new Map<string, Promise<PodmanImage>>();

  constructor(dir: string, env: NodeJS.ProcessEnv, config: ContainerConfig, counters: PodmanCounters) {
    this.#dir = dir;
    this.#env = env;
    this.#config = config;
    this.#counters = counters;
  }

  #podman(what: string, args: string[], timeoutMs = 120_000): Promise<string> {
    return mustRun(what, "container/podman", "podman", args, { env: this.#env, timeoutMs });
  }

  /** The image mounted, loading its archive from `store` the first time. */
  #image(digest: string, store: ContentStore): Promise<PodmanImage> {
    let p = this.#loading.get(digest);
    if (!p) {
      p = this.#mount(digest, store);
      p.catch(() => this.#loading.delete(digest));
      this.#loading.set(digest, p);
    }
    return p;
  }

  async #mount(digest: string, store: ContentStore): Promise<PodmanImage> {
    const name = await this.#load(digest, store);
    const rootfs = (await this.#podman("mounting the image", ["image", "mount", name])).trim();
    const raw = await this.#podman("reading the image's config", [
      "image",
      "inspect",
      "--format",
      "{{json .Config}}",
      name,
    ]);
    let c: Record<string, unknown>;
    try {
      c = JSON.parse(raw) ?? {};
    } catch {
      throw new WeftError("RunnerError", "container/podman", `podman gave no readable config for ${digest}`);
    }
    const list = (v: unknown) => Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
    return {
      rootfs,
      env: list(c.Env),
      argv: [...list(c.Entrypoint), ...list(c.Cmd)],
      workingDir: typeof c.WorkingDir === "string" && c.WorkingDir.startsWith("/") ? c.WorkingDir : "/",
    };
  }

  async #load(digest: string, store: ContentStore): Promise<string> {
    const name = `localhost/weft/image:${digest.slice(7)}`;
    const exists = await runTool("podman", ["image", "exists", name], { env: this.#env });
    if (exists.code === 0) return name;
    const bytes = await fetchVerified(store, imageCid(digest), "image");
    const max = this.#config.maxImageMb * 1024 * 1024;
    if (bytes.length > max) {
      throw new WeftError(
        "RunnerError",
        "container/image-too-big",
        `image ${digest} is ${bytes.length} bytes, over this node's ${max}-byte limit (runners.container.max_image_mb)`,
      );
    }
    const file = join(this.#dir, `load-${crypto.randomUUID()}.tar`);
    try {
      await writeFile(file, bytes);
      const out = await this.#podman("loading the image", ["load", "-q", "-i", file], 600_000);
      const loaded = /Loaded image(?:\(s\))?: *(\S+)/.exec(out)?.[1];
      if (!loaded) throw new WeftError("RunnerError", "container/podman", `podman load named no image: ${out.trim()}`);
      await this.#podman("tagging the image", ["tag", loaded, name]);
      return name;
    } finally {
      await rm(file, { force: true });
    }
  }

  async prepare(plan: JobPlan, store: ContentStore): Promise<Sandbox> {
    const image = await this.#image(plan.image, store);
    const argv = plan.argv.length > 0 ? plan.argv : image.argv;
    if (argv.length === 0) {
      throw new Error(`the spec gives no command and image ${plan.image} has no entrypoint or command`);
    }
    const name = `weft-${plan.id}`;
    // The job's limits also sit on a cgroup of the runner's that the container's own is made under; whether they
    // stopped it is read from the kernel's counters in both (podman 4.3 does not report a runc OOM kill here).
    const cgroup = await JobCgroup.create(this.#config.cgroupParent, plan.id, {
      memoryMb: plan.memoryMb,
      cpus: this.#config.cpus,
      pids: this.#config.pids,
    });
    const args = [
      "run",
      "--name",
      name,
      "--runtime",
      this.#counters.runtime,
      ...LOWERED_ULIMITS,
      "--ulimit",
      `fsize=${plan.fileBytes}:${plan.fileBytes}`,
      "--network",
      plan.network ? "host" : "none",
      "--read-only",
      "--cap-drop",
      "all",
      "--security-opt",
      "no-new-privileges",
      "--cgroup-parent",
      `/${this.#config.cgroupParent}/${plan.id}`,
      "--memory",
      `${plan.memoryMb}m`,
      "--memory-swap",
      `${plan.memoryMb}m`,
      "--log-driver",
      "none",
      "-v",
      `${plan.inputs}:/inputs:ro`,
      "-v",
      `${plan.outputs}:/outputs:rw`,
      ...(plan.src ? ["-v", `${plan.src}:/src:rw`] : []),
      ...(plan.ports ? ["-v", `${plan.ports}:${PORTS_DIR}:rw`] : []),
      "--workdir",
      plan.src ? "/src" : image.workingDir,
      ...jobEnv(image.env, plan).flatMap(([k, v]) => ["--env", `${k}=${v}`]),
      "--rootfs",
      image.rootfs,
      ...argv,
    ];
    let disposed: Promise<void> | undefined;
    const counters = this.#counters;
    const podman = (a: string[]) => runTool("podman", a, { env: this.#env, timeoutMs: 60_000, cwd: this.#dir });
    return {
      command: "podman",
      args,
      // podman puts the container in its groups (under --cgroup-parent) and sets its ulimits itself.
      cgroupProcs: [],
      env: this.#env,
      // conmon writes an `oom` marker into the directory podman run starts in: keep it out of the peer's.
      cwd: this.#dir,
      async signal(signal) {
        await podman(["kill", "--signal", signal === "SIGKILL" ? "KILL" : "TERM", name]);
      },
      async limitsHit() {
        // Refused forks and OOM kills are counted in the container's own groups, which `runc delete` removes:
        // once podman has cleaned the container up, the runtime wrapper has kept their counters.
        await podman(["container", "cleanup", name]);
        const id = await podman(["inspect", "--format", "{{.Id}}", name]);
        const kept = await counters.take(id.stdout.trim());
        return {
          memory: kept.oomKills > 0 || await cgroup.oomKilled(),
          pids: kept.forksRefused > 0 || await cgroup.pidsExhausted(),
        };
      },
      dispose: () =>
        disposed ??= podman(["rm", "--force", "--time", "0", name]).then(async (r) => {
          if (r.code !== 0 && !/no such container/i.test(r.stderr)) {
            throw new WeftError("RunnerError", "container/podman", `could not remove container ${name}: ${r.stderr}`);
          }
          await cgroup.destroy();
        }),
    };
  }

  async close(): Promise<void> {}
}
