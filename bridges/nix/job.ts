/**
 * One nix run from spec to result: the source tree in place (a build reads
 * the tree cached for its CID, a dev-shell command gets its own writable
 * copy; checked before a file is written) with its inputs beside it, the build or dev-shell
 * command started under the run's cgroups, its log streamed line by line,
 * wall time and output bytes enforced by killing it, and on success the
 * outputs stored and the derivation, output store paths and NAR hashes
 * recorded for provenance — with the rebuild verdict when `--check` asked.
 */
import { chmod, mkdir, rm, writeFile } from "node:fs/promises";
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
import { type NixProcess, startNix } from "./process.ts";
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

  constructor(context: JobContext) {
    this.#c = context;
  }

  /** Ends the run now with `status` (the first reason given wins). */
  end(status: RunStatus, reason: string): void {
    this.#ending ??= { status, reason };
    this.#current?.kill();
  }

  #log(stream: LogLine["stream"], text: string): void {
    this.#logBytes += Buffer.byteLength(text) + 1;
    if (this.#logBytes > this.#c.spec.limits.outputBytes) {
      this.end("output-limit", `wrote more than its ${this.#c.spec.limits.outputBytes}-byte output limit`);
      return;
    }
    this.#c.logs.push({ stream, at: Date.now(), text });
  }

  /** Runs one nix command under the run's limits; undefined when the run was ended meanwhile. */
  async #nix(
    argv: string[],
    stdout: "log" | "keep",
    extraEnv: Record<string, string> = {},
    tap?: (text: string) => void,
  ) {
    if (this.#ending) return undefined;
    const home = join(this.#c.workDir, "home");
    this.#current = startNix({
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
      cgroupProcs: this.#cgroup!.procs,
      stdout,
      onLine: (stream, text) => {
        tap?.(text);
        // A builder's lines are the job's output (nix merges its stdout and stderr); nix's own are stderr.
        const builder = stream === "stderr" ? BUILDER_LINE.exec(text) : null;
        const failed = BUILDER_FAILED.exec(text);
        if (failed) this.#builderExit = Number(failed[1]);
        this.#log(builder ? "stdout" : stream, builder ? builder[1] : text);
      },
    });
    const exit = await this.#current.done;
    this.#current = undefined;
    return this.#ending ? undefined : exit;
  }

  /**
   * The program, with its source in place: a build reads the cached tree of its CID (source-cache.ts); a dev-shell
   * command, which may write into its source, gets a fresh copy in the run's directory. Inputs go beside it.
   */
  async #prepare(): Promise<NixProgram> {
    const { spec, store, workDir } = this.#c;
    const own = join(workDir, "source");
    const program = parseNixProgram(spec, (mode) => mode === "build" ? this.#c.sources.dirOf(spec.source!.cid) : own);
    if (program.mode === "develop" && !this.#c.canDevelop) {
      throw new WeftError(
        "Unavailable",
        "runner/unavailable",
        "dev-shell commands need bubblewrap (bwrap) on this node",
      );
    }
    await mkdir(join(workDir, "tmp"), { recursive: true });
    await mkdir(join(workDir, "home"), { recursive: true });
    await mkdir(join(workDir, "out"), { recursive: true });
    if (program.mode === "build") {
      this.#source = await this.#c.sources.acquire(spec.source!.cid, store);
      this.#cwd = this.#source.dir;
    } else {
      await writeSourceTree(own, readSource(await fetchVerified(store, spec.source!.cid, "source")));
      this.#cwd = own;
    }
    for (const input of spec.inputs) {
      const bytes = await fetchVerified(store, input.cid, `input ${input.path}`);
      const file = join(workDir, "inputs", input.path);
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, bytes, { flag: "wx" });
      await chmod(file, 0o444);
    }
    return program;
  }

  /** `nix build`, then the output paths' NAR hashes, then (with --check) a rebuild compared with the first. */
  async #build(program: Extract<NixProgram, { mode: "build" }>) {
    // The out-link roots the outputs from the moment they exist until the run roots them for good (store-gc.ts).
    const link = join(this.#c.workDir, "result");
    const base = ["nix", "build", "-L", "--json", "--out-link", link, ...program.installable];
    const built = await this.#nix(base, "keep");
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
  async #develop(program: Extract<NixProgram, { mode: "develop" }>) {
    const { workDir, config, spec } = this.#c;
    const source = join(workDir, "source");
    const out = join(workDir, "out");
    const inputs = join(workDir, "inputs");
    await mkdir(inputs, { recursive: true });
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
    const argv = [
      "nix", "develop", "--option", "extra-sandbox-paths", config.developSandboxPaths.join(" "),
      ...program.installable, "-c", ...bwrap, ...program.command,
    ];
    const env = Object.fromEntries(spec.env.map((e) => [e.name, e.value]));
    const built = await this.#nix(argv, "log", env);
    return {
      built,
      record: undefined,
      roots: built?.code === 0 ? [{ name: "", dir: out }] : undefined,
      storePaths: undefined,
    };
  }

  async run(): Promise<RunResult> {
    const { id, spec, config, workDir } = this.#c;
    const startedAt = Date.now();
    const timer = setTimeout(
      () => this.end("timeout", `exceeded its ${spec.limits.wallMs} ms wall-time limit`),
      spec.limits.wallMs,
    );
    const finish = (status: RunStatus, rest: Partial<RunResult> = {}): RunResult => ({
      status,
      outputs: [],
      ...rest,
      startedAt,
      endedAt: Date.now(),
    });
    try {
      const program = await this.#prepare();
      this.#cgroup = await createRunCgroup(config.cgroupRoot, this.#c.cgroupGroup, id, {
        memoryBytes: spec.limits.memoryMb * 1024 * 1024,
        maxProcesses: config.maxProcesses,
      });
      const { built, record, roots, storePaths } = program.mode === "build"
        ? await this.#build(program)
        : await this.#develop(program);
      const oom = await this.#cgroup.oomKilled();
      await this.#cgroup.destroy();
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
      clearTimeout(timer);
      await this.#cgroup?.destroy();
      this.#source?.release();
      await rm(workDir, { recursive: true, force: true });
    }
  }
}
