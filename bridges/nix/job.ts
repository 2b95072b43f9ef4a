/**
 * One nix run from spec to result: the source tree in place (a build reads
 * the tree cached for its CID, a dev-shell command gets its own writable
 * copy; checked before a file is written) with its inputs beside it, the build or dev-shell
 * command started under the run's cgroups, its log streamed line by line,
 * wall time and output bytes enforced by killing it, and on success the
 * outputs stored and the derivation, output store paths and NAR hashes
 * recorded for provenance — with the rebuild verdict when `--check` asked.
 */
import { mkdir, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { isWeftError, WeftError } from "#protocol";
import {
  type BuildRecord,
  type ContentStore,
  type LogLine,
  type OutputFile,
  readSource,
  type RunMaterial,
  type RunResult,
  type RunSpec,
  type RunStatus,
} from "#protocol/runner";
import { writeSourceTree } from "../../peer/source/tree.ts";
import { fetchVerified } from "../../wasm-runners/core/content.ts";
import type { LogChannel } from "../../wasm-runners/core/log-channel.ts";
import { createRunCgroup, type RunCgroup } from "./cgroup.ts";
import type { NixConfig } from "./config.ts";
import { collectOutputs, OutputTooLarge } from "./outputs.ts";
import { type NixCommand, type NixProcess, startNix, writeStartScript } from "./process.ts";
import type { HeldProcess } from "../../peer/process/held-process.ts";
import { type NixProgram, parseNixProgram } from "./program.ts";
import type { CachedSource, SourceCache } from "./source-cache.ts";
import { keepRunOutputs } from "./store-gc.ts";

export interface JobContext {
  id: string;
  spec: RunSpec;
  store: ContentStore;
  logs: LogChannel;
  config: NixConfig;
  /** Mounted at /nix for every nix command of the run. */
  storeRoot: string;
  /** The run's own directory (removed at the end). */
  workDir: string;
  /** NIX_CONF_DIR. */
  confDir: string;
  /** The runner's cgroup group (cgroup.ts). */
  cgroupGroup: string;
  /** Whether bubblewrap is here to hold dev-shell commands. */
  canDevelop: boolean;
  /** Source trees unpacked once per CID, which builds read. */
  sources: SourceCache;
  /** The runner's spare first process, in its groups, given the run's memory limit; undefined when none is ready. */
  takeSpare?: (memoryBytes: number) => Promise<NixSpare | undefined>;
}

/** A run's first process made before the run (process.ts startSpare), already moved into `cgroup`. */
export interface NixSpare {
  held: HeldProcess;
  cgroup: RunCgroup;
}

/** How a run ended early, set by whatever stopped it. */
type Ending = { status: RunStatus; reason: string };

/** A builder's own output in `nix build -L`: `<derivation name>> <line>`. */
const BUILDER_LINE = /^[A-Za-z0-9+._?=-]+> (.*)$/s;
/** How nix reports a builder that failed. */
const BUILDER_FAILED = /^error: builder for '[^']*' failed with exit code (\d+)/;

/** A store path's NAR hash (`sha256-<base64>` from nix path-info) as lowercase hex. */
function narHex(sri: string): string {
  return Buffer.from(sri.replace(/^sha256-/, ""), "base64").toString("hex");
}

export class NixJob {
  readonly #c: JobContext;
  #current?: NixProcess;
  #ending?: Ending;
  #logBytes = 0;
  #cgroup?: RunCgroup;
  /** The exit code nix reported for a failed builder. */
  #builderExit?: number;
  /** The cached source tree a build reads, held until the run ends. */
  #source?: CachedSource;
  /** Where nix runs: the source tree. */
  #cwd = "/";
  /** Resolves once nix may run: at once, or at go() for a run prepared while its claim is made durable. */
  readonly #mayRun: Promise<void>;
  #go!: () => void;

  /** With `held`, the run is made ready but nix is let go only at go() (Runner.prepare). */
  constructor(context: JobContext, held = false) {
    this.#c = context;
    this.#mayRun = new Promise((resolve) => this.#go = resolve);
    if (!held) this.#go();
  }

  /** Lets a run made with `held` go (once its claim is durable). */
  go(): void {
    this.#go();
  }

  /** Ends the run now with `status` (the first reason given wins). */
  end(status: RunStatus, reason: string): void {
    this.#ending ??= { status, reason };
    this.#current?.kill();
    this.#go(); // a held run goes on only to see it ended, and runs nothing
  }

  #log(stream: LogLine["stream"], text: string): void {
    this.#logBytes += Buffer.byteLength(text) + 1;
    if (this.#logBytes > this.#c.spec.limits.outputBytes) {
      this.end("output-limit", `wrote more than its ${this.#c.spec.limits.outputBytes}-byte output limit`);
      return;
    }
    this.#c.logs.push({ stream, at: Date.now(), text });
  }

  /**
   * Starts one nix command, held until #finish lets it go (process.ts); undefined when the run was ended. With
   * `spare`, the command is that process's, let go with the start script written to `spare.script`.
   */
  #start(
    argv: string[],
    stdout: "log" | "keep",
    extraEnv: Record<string, string> = {},
    tap?: (text: string) => void,
    spare?: { held: HeldProcess; script: string },
  ): NixProcess | undefined {
    if (this.#ending) return undefined;
    this.#current = startNix(this.#command(argv, stdout, extraEnv, tap), spare);
    return this.#current;
  }

  /** One nix command of the run: its environment, where it runs, and where its lines go. */
  #command(
    argv: string[],
    stdout: "log" | "keep",
    extraEnv: Record<string, string>,
    tap?: (text: string) => void,
  ): NixCommand {
    const home = join(this.#c.workDir, "home");
    return {
      argv,
      env: {
        ...extraEnv,
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        HOME: home,
        TMPDIR: join(this.#c.workDir, "tmp"),
        XDG_CACHE_HOME: join(home, ".cache"),
        NIX_CONF_DIR: this.#c.confDir,
      },
      cwd: this.#cwd,
      storeRoot: this.#c.storeRoot,
      stdout,
      onLine: (stream, text) => {
        tap?.(text);
        // A builder's lines are the job's output (nix merges its stdout and stderr); nix's own are stderr.
        const builder = stream === "stderr" ? BUILDER_LINE.exec(text) : null;
        const failed = BUILDER_FAILED.exec(text);
        if (failed) this.#builderExit = Number(failed[1]);
        this.#log(builder ? "stdout" : stream, builder ? builder[1] : text);
      },
    };
  }

  /** Lets a started command run under the run's cgroups (moved there unless `confined`); undefined when ended. */
  async #finish(p: NixProcess | undefined, confined = false) {
    if (!p) return undefined;
    if (!confined) await p.confine(this.#cgroup!.procs);
    if (!this.#ending) p.release();
    const exit = await p.done;
    this.#current = undefined;
    return this.#ending ? undefined : exit;
  }

  /** Runs one nix command under the run's limits; undefined when the run was ended meanwhile. */
  #nix(argv: string[], stdout: "log" | "keep", extraEnv: Record<string, string> = {}, tap?: (text: string) => void) {
    return this.#finish(this.#start(argv, stdout, extraEnv, tap));
  }

  /** The program read from the spec; where nix will run (the source tree, in place once #prepare is done). */
  #program(): NixProgram {
    const { spec, workDir } = this.#c;
    const own = join(workDir, "source");
    const program = parseNixProgram(spec, (mode) => mode === "build" ? this.#c.sources.dirOf(spec.source!.cid) : own);
    if (program.mode === "develop" && !this.#c.canDevelop) {
      throw new WeftError(
        "Unavailable",
        "runner/unavailable",
        "dev-shell commands need bubblewrap (bwrap) on this node",
      );
    }
    this.#cwd = program.mode === "build" ? this.#c.sources.dirOf(spec.source!.cid) : own;
    return program;
  }

  /**
   * The source in place, all at once: a build reads the cached tree of its CID (source-cache.ts); a dev-shell
   * command, which may write into its source, gets a fresh copy in the run's directory. Inputs go beside it.
   */
  async #prepare(program: NixProgram): Promise<void> {
    const { spec, store, workDir } = this.#c;
    await mkdir(workDir, { recursive: true });
    await Promise.all([
      ...["tmp", "home", "out", "inputs"].map((d) => mkdir(join(workDir, d))),
      program.mode === "build"
        ? this.#c.sources.acquire(spec.source!.cid, store).then((source) => this.#source = source)
        : fetchVerified(store, spec.source!.cid, "source").then((b) => writeSourceTree(this.#cwd, readSource(b))),
      ...spec.inputs.map(async (input) => {
        const bytes = await fetchVerified(store, input.cid, `input ${input.path}`);
        const file = join(workDir, "inputs", input.path);
        await mkdir(dirname(file), { recursive: true });
        await writeFile(file, bytes, { flag: "wx", mode: 0o444 });
      }),
    ]);
  }

  /** `nix build` of the program, with the out-link that roots its outputs until the run roots them for good (store-gc.ts). */
  #buildArgv(program: Extract<NixProgram, { mode: "build" }>): string[] {
    return ["nix", "build", "-L", "--json", "--out-link", join(this.#c.workDir, "result"), ...program.installable];
  }

  /** `first` (the build, started and confined), then the output paths' NAR hashes, then (with --check) a rebuild. */
  async #build(program: Extract<NixProgram, { mode: "build" }>, first: NixProcess | undefined) {
    const base = this.#buildArgv(program);
    const built = await this.#finish(first, true);
    if (!built || built.code !== 0) return { built };
    const results = JSON.parse(built.stdout) as { drvPath: string; outputs: Record<string, string> }[];
    const outputs = Object.assign({}, ...results.map((r) => r.outputs)) as Record<string, string>;
    const info = await this.#nix(["nix", "path-info", "--json", ...Object.values(outputs)], "keep");
    if (!info || info.code !== 0) return { built: info };
    const nar = new Map(
      (JSON.parse(info.stdout) as { path: string; narHash: string }[]).map((p) => [p.path, p.narHash]),
    );
    const materials: RunMaterial[] = [
      ...results.map((r) => ({ name: "nix-derivation", uri: r.drvPath })),
      ...Object.entries(outputs).sort().map(([name, path]) => ({
        name: `nix-output:${name}`,
        uri: path,
        digest: { "nar-sha256": narHex(nar.get(path) ?? "") },
      })),
    ];
    const record: BuildRecord = { materials };
    if (program.check) {
      // nix names each output that differs: "may not be deterministic: output '<path>' differs".
      const said: string[] = [];
      const rebuilt = await this.#nix([...base.slice(0, 2), "--rebuild", ...base.slice(2)], "keep", {}, (t) => {
        if (t.includes("may not be deterministic")) said.push(t);
      });
      if (!rebuilt) return { built };
      const differing = Object.entries(outputs)
        .filter(([, path]) => said.some((t) => t.includes(`${path}' differs`)))
        .map(([name]) => name);
      if (rebuilt.code !== 0 && differing.length === 0) return { built: rebuilt };
      record.rebuild = { identical: differing.length === 0, differing };
    }
    const roots = Object.entries(outputs).sort().map(([name, path]) => ({
      name,
      dir: join(this.#c.storeRoot, path.replace(/^\/nix\//, "")),
    }));
    return { built, record, roots, storePaths: outputs };
  }

  /** The command inside `nix develop -c`, itself inside bubblewrap: it sees the store, system dirs and its own tree. */
  #developArgv(program: Extract<NixProgram, { mode: "develop" }>): string[] {
    const { workDir, config } = this.#c;
    const source = join(workDir, "source");
    const out = join(workDir, "out");
    const inputs = join(workDir, "inputs");
    // deno-fmt-ignore
    const bwrap = [
      "bwrap", "--unshare-all", "--die-with-parent", "--new-session",
      "--ro-bind", "/nix", "/nix",
      ...["/usr", "/bin", "/lib", "/lib64", "/etc/ld.so.cache"].flatMap((p) => ["--ro-bind-try", p, p]),
      "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", // before the binds: the run's dir may be under /tmp
      "--bind", source, source, "--ro-bind", inputs, inputs, "--bind", out, out,
      "--setenv", "HOME", "/tmp", "--setenv", "WEFT_OUT", out, "--setenv", "WEFT_INPUTS", inputs,
      "--chdir", source, "--",
    ];
    // deno-fmt-ignore
    return [
      "nix", "develop", "--option", "extra-sandbox-paths", config.developSandboxPaths.join(" "),
      ...program.installable, "-c", ...bwrap, ...program.command,
    ];
  }

  /** `first` (the dev-shell command, started and confined) to its end; its outputs are what it wrote to $WEFT_OUT. */
  async #develop(first: NixProcess | undefined) {
    const built = await this.#finish(first, true);
    return {
      built,
      record: undefined,
      roots: built?.code === 0 ? [{ name: "", dir: join(this.#c.workDir, "out") }] : undefined,
      storePaths: undefined,
    };
  }

  /**
   * The run's first nix command (the build, or the dev-shell command) is started held before anything else, so it
   * spawns and enters its namespaces while the source is unpacked and the cgroups are made; it is moved into them as
   * soon as they exist, and let go once the source is in place.
   */
  async #startFirst(program: NixProgram): Promise<{ first: NixProcess | undefined; cgroup: RunCgroup }> {
    const { id, spec, config } = this.#c;
    const memoryBytes = spec.limits.memoryMb * 1024 * 1024;
    const env = Object.fromEntries(spec.env.map((e) => [e.name, e.value]));
    const [argv, stdout, extraEnv] = program.mode === "build"
      ? [this.#buildArgv(program), "keep" as const, {}]
      : [this.#developArgv(program), "log" as const, env];
    const spare = this.#ending ? undefined : await this.#c.takeSpare?.(memoryBytes);
    if (spare) {
      // Made before the run, already in its groups with the run's memory limit: only the files are left to make.
      this.#cgroup = spare.cgroup;
      const script = join(this.#c.workDir, "start.sh");
      const first = this.#start(argv, stdout, extraEnv, undefined, { held: spare.held, script });
      if (!first) spare.held.kill();
      try {
        await this.#prepare(program);
        await writeStartScript(script, this.#command(argv, stdout, extraEnv));
      } catch (e) {
        first?.kill();
        await first?.done;
        throw e;
      }
      return { first, cgroup: spare.cgroup };
    }
    const first = this.#start(argv, stdout, extraEnv);
    const settled = await Promise.allSettled([
      this.#prepare(program),
      createRunCgroup(config.cgroupRoot, this.#c.cgroupGroup, id, {
        memoryBytes,
        maxProcesses: config.maxProcesses,
      }).then(async (cgroup) => {
        this.#cgroup = cgroup;
        await first?.confine(cgroup.procs);
      }),
    ]);
    const failed = settled.find((r) => r.status === "rejected");
    if (failed) {
      first?.kill();
      await first?.done;
      throw failed.reason;
    }
    return { first, cgroup: this.#cgroup! };
  }

  async run(): Promise<RunResult> {
    const { id, spec, workDir } = this.#c;
    // A prepared run starts, and its wall time runs, from when it is let go, not from when its claim began.
    let startedAt = Date.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let over = false;
    void this.#mayRun.then(() => {
      if (over) return;
      startedAt = Date.now();
      timer = setTimeout(
        () => this.end("timeout", `exceeded its ${spec.limits.wallMs} ms wall-time limit`),
        spec.limits.wallMs,
      );
    });
    const finish = (status: RunStatus, rest: Partial<RunResult> = {}): RunResult => ({
      status,
      outputs: [],
      ...rest,
      startedAt,
      endedAt: Date.now(),
    });
    try {
      const program = this.#program();
      const { first, cgroup } = await this.#startFirst(program);
      await this.#mayRun;
      const { built, record, roots, storePaths } = program.mode === "build"
        ? await this.#build(program, first)
        : await this.#develop(first);
      const oom = await cgroup.oomKilled();
      await cgroup.destroy();
      if (oom) {
        this.#ending ??= { status: "out-of-memory", reason: `passed its ${spec.limits.memoryMb} MiB memory limit` };
      }
      if (this.#ending) return finish(this.#ending.status, { reason: this.#ending.reason });
      if (!built || built.code !== 0 || !roots) {
        return finish("failed", {
          ...(this.#builderExit !== undefined
            ? { exitCode: this.#builderExit }
            : built?.code != null
            ? { exitCode: built.code }
            : {}),
          reason: `nix ${program.mode} of ${program.label} failed; its log says why`,
        });
      }
      let outputs: OutputFile[];
      try {
        const left = spec.limits.outputBytes - this.#logBytes;
        const collected = await collectOutputs(roots, this.#c.store, left);
        outputs = collected.files;
        for (const s of collected.skipped) {
          this.#log("system", `output ${s} is not a regular file with a run path; not stored`);
        }
      } catch (e) {
        if (e instanceof OutputTooLarge) return finish("output-limit", { reason: e.message });
        throw e;
      }
      const build = record ? { build: record } : {};
      if (record?.rebuild && !record.rebuild.identical) {
        const reason = `not reproducible: rebuilding ${program.label} gave different ${
          record.rebuild.differing.join(", ")
        }`;
        this.#log("system", reason);
        return finish("failed", { reason, outputs, ...build });
      }
      if (storePaths) await keepRunOutputs(this.#c.storeRoot, id, storePaths);
      return finish("succeeded", { exitCode: 0, outputs, ...build });
    } catch (e) {
      return finish("error", { reason: isWeftError(e) ? e.message : `the nix runner failed: ${(e as Error).message}` });
    } finally {
      over = true;
      clearTimeout(timer);
      await this.#cgroup?.destroy();
      this.#source?.release();
      await rm(workDir, { recursive: true, force: true });
    }
  }
}
