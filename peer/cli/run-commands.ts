/**
 * `weft run`, `weft pods`, `weft logs`, `weft evict`: submit a job to the
 * mesh and follow it. The program and input files are uploaded to this
 * peer's artifacts in the space first (the node that runs the job fetches them by CID);
 * the job itself is a signed create operation carrying the run spec, with
 * an idempotency key so a retried submission never makes a second run.
 */
import process from "node:process";
import { basename, join } from "node:path";
import { existsSync } from "node:fs";
import { stat } from "node:fs/promises";
import type { Pod } from "#protocol/scheduler";
import type { LogLine, RunSpec } from "#protocol/runner";
import { count, enc, list, need, seconds, str, Usage } from "./args.ts";
import { type Command, type Io, resolveSpace } from "./command.ts";
import { short, table } from "./output.ts";
import { ArtifactClient } from "../artifacts/api-client.ts";
import { reproduce, uploadSource } from "./run-source.ts";

/** Programs and inputs are small next to artifacts: no progress bars for them. */
export const QUIET = { hashing() {}, sending() {} };

const TERMINAL = new Set(["succeeded", "failed", "cancelled", "review"]);

function pair(text: string, what: string): [string, string] {
  const eq = text.indexOf("=");
  if (eq <= 0) throw new Usage(`${what} is NAME=VALUE, got ${JSON.stringify(text)}`);
  return [text.slice(0, eq), text.slice(eq + 1)];
}

function podLine(p: Pod) {
  return {
    task: p.task.slice(0, 8),
    state: p.state,
    node: short(p.node),
    runner: p.runner,
    started: p.startedAt ? new Date(p.startedAt).toISOString() : undefined,
    took: p.startedAt && p.endedAt ? `${((p.endedAt - p.startedAt) / 1000).toFixed(1)}s` : undefined,
    memMb: p.resources.memoryMb,
    title: p.title.length > 40 ? p.title.slice(0, 39) + "…" : p.title,
  };
}

function showPod(p: Pod): string {
  return [
    `${p.task}  ${p.state}${p.node ? ` on ${p.node}` : ""}`,
    `  ${p.title}`,
    `  ${p.runner} ${p.program}  spec ${p.spec}`,
    `  resources: cpu ${p.resources.cpu}, ${p.resources.memoryMb} MB, gpu ${p.resources.gpu}, wall ${
      p.resources.wallMs / 1000
    }s${p.resources.tags.length ? `, tags ${p.resources.tags.join(",")}` : ""}`,
    `  submitted ${new Date(p.submittedAt).toISOString()}${
      p.startedAt ? `, started ${new Date(p.startedAt).toISOString()}` : ""
    }${p.endedAt ? `, ended ${new Date(p.endedAt).toISOString()}` : ""}`,
    ...(p.summary ? [`  ${p.summary}`] : []),
    ...(p.manifest ? [`  outputs: manifest ${p.manifest}`] : []),
  ].join("\n");
}

const logText = (l: LogLine) => (l.stream === "system" ? `[weft] ${l.text}` : l.text);

/** Poll a run until it ends (following its log when `follow` and it runs here); resolves with its final pod. */
export async function waitForEnd(io: Io, space: string, task: string, follow: boolean): Promise<Pod> {
  const client = await io.client();
  const path = `/v1/spaces/${enc(space)}/pods/${enc(task)}`;
  let followed = false;
  while (true) {
    const pod = await client.get<Pod>(path);
    if (follow && !followed && pod.local && (pod.state === "running" || TERMINAL.has(pod.state))) {
      followed = true;
      for await (const line of client.lines<LogLine>(`${path}/logs?follow=true`)) {
        if (!io.json) (line.stream === "stderr" ? process.stderr : process.stdout).write(logText(line) + "\n");
      }
    }
    if (TERMINAL.has(pod.state)) return pod;
    await new Promise((r) => setTimeout(r, 200));
  }
}

export const RUN_COMMANDS: Record<string, Command> = {
  run: {
    usage: "weft run <component.wasm | source-dir> [args…] [--input path=file]… [--env NAME=value]… " +
      "[--timeout 10m] [--memory MB] [--output-limit MB] [--cpu n] [--gpu n] [--tag selector]… " +
      "[--key idempotency-key] [--title t] [--wait] [--follow] " +
      "[source-dir: --program #output|file.nix[#attr]|develop#shell] [--rev commit] [--check] [--reproduce N]]",
    summary: "Run a job on the best live node: a WASM component, or a build of a source tree (nix), inputs by content",
    options: {
      input: { type: "string", multiple: true },
      env: { type: "string", multiple: true },
      runner: { type: "string" },
      timeout: { type: "string" },
      memory: { type: "string" },
      "output-limit": { type: "string" },
      cpu: { type: "string" },
      gpu: { type: "string" },
      tag: { type: "string", multiple: true },
      key: { type: "string" },
      title: { type: "string" },
      wait: { type: "boolean" },
      follow: { type: "boolean", short: "f" },
      program: { type: "string" },
      rev: { type: "string" },
      check: { type: "boolean" },
      reproduce: { type: "string" },
    },
    async run(a, v, io) {
      const file = need(a, 0, "component.wasm | source-dir");
      const space = await resolveSpace(io, v);
      const client = await io.client();
      const artifacts = new ArtifactClient(client);
      const upload = async (local: string) => (await artifacts.upload(space, local, QUIET)).cid;
      const isSource = (await stat(file)).isDirectory();
      const source = isSource
        ? await uploadSource(client, space, file, str(v, "rev"), (t) => process.stderr.write(`note: ${t}\n`))
        : undefined;
      // A source's default program: its flake's default package, else its default.nix.
      const program = source
        ? str(v, "program") ?? (existsSync(join(file, "flake.nix")) ? "#default" : "default.nix")
        : await upload(file);
      const inputs = [];
      for (const spec of list(v, "input")) {
        const [path, local] = pair(spec, "--input");
        inputs.push({ path, cid: await upload(local) });
      }
      const run: RunSpec = {
        runner: str(v, "runner") ?? (source ? "nix" : "wasm"),
        program,
        args: [...(v.check ? ["--check"] : []), ...a.slice(1)],
        inputs,
        env: list(v, "env").map((e) => pair(e, "--env")).map(([name, value]) => ({ name, value })),
        limits: {
          wallMs: Math.round(seconds(str(v, "timeout") ?? "10m", "--timeout") * 1000),
          memoryMb: count(v, "memory", 1024 * 1024) ?? 512,
          outputBytes: (count(v, "output-limit", 1024 * 1024) ?? 64) * 1024 * 1024,
        },
        ...(source ? { source } : {}),
      };
      const cpu = count(v, "cpu", 4096);
      const gpu = count(v, "gpu", 1024);
      const requirements = {
        ...(cpu !== undefined ? { cpu } : {}),
        ...(gpu !== undefined ? { gpu } : {}),
        ...(list(v, "tag").length ? { tags: list(v, "tag") } : {}),
      };
      const title = str(v, "title") ??
        `run ${basename(file)}${source ? ` ${program}` : ""}${a.length > 1 ? " " + a.slice(1).join(" ") : ""}`
          .slice(0, 200);
      const times = count(v, "reproduce", 64);
      if (times !== undefined) {
        if (times < 2) throw new Usage("--reproduce N builds on N nodes and compares them: N is at least 2");
        const r = await reproduce(client, space, run, times, { title, requirements }, async (task) => {
          return await waitForEnd(io, space, task, false);
        });
        io.print(r, () =>
          [
            `${r.verdict.match ? "reproducible" : "NOT reproducible"} on ${r.verdict.nodes.length} nodes ` +
            `(recorded on task ${r.task})`,
            ...r.runs.map((p) => `  ${p.task}  ${p.state} on ${p.node}  manifest ${p.manifest ?? "-"}`),
            ...(r.verdict.differing.length ? [`  differing: ${r.verdict.differing.join(", ")}`] : []),
          ].join("\n"));
        if (!r.verdict.match) process.exitCode = 1;
        return;
      }
      const { newTaskId } = await import("#protocol/space");
      const pod = await client.op<"create", Pod>(space, "create", {
        task: newTaskId(),
        title,
        run,
        ...(Object.keys(requirements).length ? { requirements } : {}),
        idempotencyKey: str(v, "key") ?? crypto.randomUUID(),
      }, { path: `/v1/spaces/${enc(space)}/schedule` });
      if (!v.wait && !v.follow) return io.print(pod, () => `submitted ${pod.task} (${pod.state})`);
      if (!io.json) process.stderr.write(`submitted ${pod.task}; waiting for it to finish…\n`);
      const end = await waitForEnd(io, space, pod.task, Boolean(v.follow));
      io.print(end, () => showPod(end));
      if (end.state !== "succeeded") process.exitCode = 1;
    },
  },
  pods: {
    usage: "weft pods [--state queued|claimed|running|succeeded|failed|cancelled] [--node did] [--limit n]",
    summary: "Runs in the space: where, state, start time and resources",
    options: { state: { type: "string" }, node: { type: "string" }, limit: { type: "string" } },
    async run(_a, v, io) {
      const space = await resolveSpace(io, v);
      const q = new URLSearchParams();
      for (const k of ["state", "node", "limit"]) if (str(v, k)) q.set(k, str(v, k)!);
      const r = await (await io.client()).get<{ pods: Pod[] }>(`/v1/spaces/${enc(space)}/pods${q.size ? `?${q}` : ""}`);
      io.print(
        r,
        () => table(r.pods.map(podLine), ["task", "state", "node", "runner", "started", "took", "memMb", "title"]),
      );
    },
  },
  pod: {
    usage: "weft pod <task>",
    summary: "One run, in full",
    async run(a, v, io) {
      const space = await resolveSpace(io, v);
      const p = await (await io.client()).get<Pod>(`/v1/spaces/${enc(space)}/pods/${enc(need(a, 0, "task"))}`);
      io.print(p, () => showPod(p));
    },
  },
  logs: {
    usage: "weft logs <task> [--follow]",
    summary: "A run's log (from the node running it); --follow streams until it ends",
    options: { follow: { type: "boolean", short: "f" } },
    async run(a, v, io) {
      const space = await resolveSpace(io, v);
      const path = `/v1/spaces/${enc(space)}/pods/${enc(need(a, 0, "task"))}/logs${v.follow ? "?follow=true" : ""}`;
      for await (const line of (await io.client()).lines<LogLine>(path)) {
        io.out(io.json ? JSON.stringify(line) : logText(line));
      }
    },
  },
  evict: {
    usage: "weft evict <task> [--reason r]",
    summary: "Cancel a run; the node running it stops it at once",
    options: { reason: { type: "string" } },
    async run(a, v, io) {
      const space = await resolveSpace(io, v);
      const client = await io.client();
      const current = await client.get<Pod>(`/v1/spaces/${enc(space)}/pods/${enc(need(a, 0, "task"))}`);
      const pod = await client.op<"cancel", Pod>(space, "cancel", {
        task: current.task,
        ...(str(v, "reason") ? { body: str(v, "reason") } : {}),
      }, { path: `/v1/spaces/${enc(space)}/evict` });
      io.print(
        pod,
        () => `evicted ${pod.task}${current.node ? ` (was ${current.state} on ${short(current.node)})` : ""}`,
      );
    },
  },
};
