/**
 * What the kernel counted in a podman container's own cgroups (refused
 * forks, OOM kills), kept past the moment runc removes them. On cgroup v1
 * both counters live in the group of the process that forked or was killed,
 * which is the container's (`<job group>/libpod-<id>`), never the job group
 * the runner made above it; and `runc delete` removes that group as soon as
 * the container has exited. So podman is given, as its OCI runtime, a short
 * wrapper around runc that copies the two counters files out just before it
 * execs `runc delete`; the backend reads the copy after the job ended. Without
 * it a fork bomb or an OOM kill of a child process went unreported under podman.
 */
import { chmod, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";

const ROOT = "/sys/fs/cgroup";

/** The wrapper, for jobs whose groups are `<ROOT>/<controller>/<parent>/<job>`; `keep` is where copies go. */
function wrapperScript(parent: string, keep: string): string {
  return `#!/bin/sh
# runc for weft's podman jobs: copy a container's pids and OOM counters out before "delete" removes its cgroups.
for a; do id=$a; done
case " $* " in *" delete "*)
  case $id in *[!0-9a-f]*|"") ;; *)
    for g in ${ROOT}/pids/${parent}/*/libpod-$id; do
      [ -d "$g" ] || continue
      m=\${g#${ROOT}/pids/}
      { cat "$g/pids.events"; cat "${ROOT}/memory/$m/memory.oom_control"; } > "${keep}/$id.tmp" 2>/dev/null
      mv "${keep}/$id.tmp" "${keep}/$id"
    done;;
  esac;;
esac
exec runc "$@"
`;
}

export interface ContainerCounters {
  /** Forks the pids controller refused. */
  forksRefused: number;
  /** Processes the OOM killer killed. */
  oomKills: number;
}

export class PodmanCounters {
  /** The runtime to pass to `podman run --runtime`. */
  readonly runtime: string;
  readonly #keep: string;

  private constructor(runtime: string, keep: string) {
    this.runtime = runtime;
    this.#keep = keep;
  }

  /** Write the wrapper under `dir` for jobs under cgroup `parent` (a plain name, checked by the config). */
  static async create(dir: string, parent: string): Promise<PodmanCounters> {
    const keep = join(dir, "counters");
    await mkdir(keep, { recursive: true });
    const runtime = join(dir, "runc-keeping-counters");
    await writeFile(runtime, wrapperScript(parent, keep));
    await chmod(runtime, 0o755);
    return new PodmanCounters(runtime, keep);
  }

  /**
   * What container `id` (podman's full id) counted, once podman has cleaned it up; zeros when the copy is missing
   * (the container never started). The copy is removed.
   */
  async take(id: string): Promise<ContainerCounters> {
    if (!/^[0-9a-f]{64}$/.test(id)) return { forksRefused: 0, oomKills: 0 };
    const file = join(this.#keep, id);
    const text = await readFile(file, "utf8").catch(() => "");
    await rm(file, { force: true });
    const count = (re: RegExp) => Number(re.exec(text)?.[1] ?? 0);
    return { forksRefused: count(/^max (\d+)$/m), oomKills: count(/^oom_kill (\d+)$/m) };
  }
}
