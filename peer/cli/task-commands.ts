/**
 * `weft task add|list|show|edit|comment|claim|cancel|graph|watch`: the
 * space's tasks, each change a signed operation sent through the API.
 */
import process from "node:process";
import { WeftError } from "#protocol";
import type { TaskView } from "#protocol/tasks";
import { enc, list, need, seconds, str } from "./args.ts";
import { type Command, type Io, resolveSpace } from "./command.ts";
import { short, table } from "./output.ts";

async function task(io: Io, space: string, id: string): Promise<TaskView> {
  return await (await io.client()).get<TaskView>(`/v1/spaces/${enc(space)}/tasks/${enc(id)}`);
}

function taskLine(t: TaskView) {
  return {
    id: t.id.slice(0, 8),
    status: t.effectiveStatus,
    title: t.title.length > 48 ? t.title.slice(0, 47) + "…" : t.title,
    labels: t.labels,
    assignee: short(t.assignee),
    deps: t.deps.length,
  };
}

function showTask(t: TaskView): string {
  const lines = [
    `${t.id}  ${t.effectiveStatus}${t.runnable ? " (runnable)" : ""}`,
    `  ${t.title}`,
    ...(t.body ? [`  ${t.body.replace(/\n/g, "\n  ")}`] : []),
    `  labels: ${t.labels.join(", ") || "-"}   deps: ${t.deps.join(", ") || "-"}`,
    `  creator: ${t.creator}`,
  ];
  if (t.lease) {
    lines.push(`  lease: ${t.lease.holder} fence ${t.lease.fence} until ${new Date(t.lease.expires).toISOString()}`);
  }
  for (const r of t.results) {
    lines.push(`  result: ${r.outcome} by ${short(r.by)}${r.manifest ? ` manifest ${r.manifest}` : ""}`);
  }
  for (const c of t.comments) lines.push(`  ${short(c.author)}: ${c.body}`);
  lines.push("  history:");
  for (const h of t.history) lines.push(`    ${new Date(h.at[0]).toISOString()} ${h.kind} by ${short(h.author)}`);
  return lines.join("\n");
}

export const TASK_COMMANDS: Record<string, Command> = {
  "task add": {
    usage:
      "weft task add <title> [--body b] [--label l]... [--dep id]... [--review] [--runner r] [--cpu n] [--memory MB] [--gpu n] [--tag t]...",
    summary: "Create a task",
    options: {
      body: { type: "string" },
      label: { type: "string", multiple: true },
      dep: { type: "string", multiple: true },
      review: { type: "boolean" },
      runner: { type: "string" },
      cpu: { type: "string" },
      memory: { type: "string" },
      gpu: { type: "string" },
      tag: { type: "string", multiple: true },
    },
    async run(a, v, io) {
      const space = await resolveSpace(io, v);
      const { newTaskId } = await import("#protocol/space");
      const requirements = {
        ...(str(v, "runner") ? { runner: str(v, "runner") } : {}),
        ...(str(v, "cpu") ? { cpu: Number(str(v, "cpu")) } : {}),
        ...(str(v, "memory") ? { memoryMb: Number(str(v, "memory")) } : {}),
        ...(str(v, "gpu") ? { gpu: Number(str(v, "gpu")) } : {}),
        ...(list(v, "tag").length ? { tags: list(v, "tag") } : {}),
      };
      const t = await (await io.client()).op<"create", TaskView>(space, "create", {
        task: newTaskId(),
        title: need(a, 0, "title"),
        ...(str(v, "body") ? { body: str(v, "body") } : {}),
        ...(list(v, "label").length ? { labels: list(v, "label") } : {}),
        ...(list(v, "dep").length ? { deps: list(v, "dep") } : {}),
        ...(v.review ? { review: true } : {}),
        ...(Object.keys(requirements).length ? { requirements } : {}),
      });
      io.print(t, () => `created ${t.id}  ${t.title}`);
    },
  },
  "task list": {
    usage: "weft task list [--status s] [--label l] [--assignee did] [--runnable] [--text t] [--limit n]",
    summary: "List and filter tasks",
    options: {
      status: { type: "string" },
      label: { type: "string" },
      assignee: { type: "string" },
      runnable: { type: "boolean" },
      text: { type: "string" },
      limit: { type: "string" },
    },
    async run(_a, v, io) {
      const space = await resolveSpace(io, v);
      const q = new URLSearchParams();
      for (const k of ["status", "label", "assignee", "text", "limit"]) if (str(v, k)) q.set(k, str(v, k)!);
      if (v.runnable) q.set("runnable", "true");
      const path = `/v1/spaces/${enc(space)}/tasks${q.size ? `?${q}` : ""}`;
      const r = await (await io.client()).get<{ tasks: TaskView[] }>(path);
      io.print(r, () => table(r.tasks.map(taskLine), ["id", "status", "title", "labels", "assignee", "deps"]));
    },
  },
  "task show": {
    usage: "weft task show <id>",
    summary: "One task, with its comments, lease, results and history",
    async run(a, v, io) {
      const t = await task(io, await resolveSpace(io, v), need(a, 0, "id"));
      io.print(t, () => showTask(t));
    },
  },
  "task edit": {
    usage:
      "weft task edit <id> [--title t] [--body b] [--add-label l]... [--remove-label l]... [--add-dep id] [--remove-dep id]",
    summary: "Edit a task's title, body, labels or dependencies",
    options: {
      title: { type: "string" },
      body: { type: "string" },
      "add-label": { type: "string", multiple: true },
      "remove-label": { type: "string", multiple: true },
      "add-dep": { type: "string" },
      "remove-dep": { type: "string" },
    },
    async run(a, v, io) {
      const space = await resolveSpace(io, v);
      const client = await io.client();
      let t = await task(io, space, need(a, 0, "id"));
      const id = t.id;
      if (str(v, "title") !== undefined || str(v, "body") !== undefined) {
        t = await client.op(space, "edit", {
          task: id,
          ...(str(v, "title") ? { title: str(v, "title") } : {}),
          ...(str(v, "body") !== undefined ? { body: str(v, "body") } : {}),
        });
      }
      if (list(v, "add-label").length || list(v, "remove-label").length) {
        t = await client.op(space, "label", { task: id, add: list(v, "add-label"), remove: list(v, "remove-label") });
      }
      if (str(v, "add-dep")) t = await client.op(space, "dependency", { task: id, add: str(v, "add-dep")! });
      if (str(v, "remove-dep")) t = await client.op(space, "dependency", { task: id, remove: str(v, "remove-dep")! });
      io.print(t, () => showTask(t));
    },
  },
  "task comment": {
    usage: "weft task comment <id> <text>",
    summary: "Comment on a task",
    async run(a, v, io) {
      const space = await resolveSpace(io, v);
      const id = (await task(io, space, need(a, 0, "id"))).id;
      const t = await (await io.client()).op<"comment", TaskView>(space, "comment", {
        task: id,
        body: need(a, 1, "text"),
      });
      io.print(t, () => `commented on ${t.id}`);
    },
  },
  "task claim": {
    usage: "weft task claim <id> [--lease 60s]",
    summary: "Claim a task (a lease with a fencing token)",
    options: { lease: { type: "string" } },
    async run(a, v, io) {
      const space = await resolveSpace(io, v);
      const current = await task(io, space, need(a, 0, "id"));
      const lease = seconds(str(v, "lease") ?? "60s", "--lease") * 1000;
      const t = await (await io.client()).op<"claim", TaskView>(space, "claim", {
        task: current.id,
        fence: current.fence + 1,
        expires: Date.now() + lease,
      });
      io.print(
        t,
        () => `claimed ${t.id}: fence ${t.lease?.fence}, lease until ${new Date(t.lease!.expires).toISOString()}`,
      );
    },
  },
  "task cancel": {
    usage: "weft task cancel <id> [--reason r]",
    summary: "Cancel a task",
    options: { reason: { type: "string" } },
    async run(a, v, io) {
      const space = await resolveSpace(io, v);
      const id = (await task(io, space, need(a, 0, "id"))).id;
      const t = await (await io.client()).op<"cancel", TaskView>(space, "cancel", {
        task: id,
        ...(str(v, "reason") ? { body: str(v, "reason") } : {}),
      });
      io.print(t, () => `cancelled ${t.id}`);
    },
  },
  "task graph": {
    usage: "weft task graph",
    summary: "The dependency graph",
    async run(_a, v, io) {
      const space = await resolveSpace(io, v);
      const g = await (await io.client()).get<
        { nodes: Array<{ id: string; title: string; status: string }>; edges: Array<{ from: string; to: string }> }
      >(`/v1/spaces/${enc(space)}/graph`);
      io.print(g, () => {
        const title = new Map(g.nodes.map((n) => [n.id, `${n.id.slice(0, 8)} [${n.status}] ${n.title}`]));
        const deps = new Map<string, string[]>();
        for (const e of g.edges) deps.set(e.from, [...(deps.get(e.from) ?? []), e.to]);
        return g.nodes.map((n) =>
          `${title.get(n.id)}${(deps.get(n.id) ?? []).map((d) => `\n  └─ needs ${title.get(d) ?? d}`).join("")}`
        ).join("\n") || "(no tasks)";
      });
    },
  },
  "task watch": {
    usage: "weft task watch",
    summary: "Print task changes and refusals as they happen (Ctrl-C to stop)",
    async run(_a, _v, io) {
      const client = await io.client();
      const bearer = await client.bearer("GET", "/v1/stream");
      const url = `${client.url.replace(/^http/, "ws")}/v1/stream?token=${enc(bearer)}`;
      const socket = new WebSocket(url);
      await new Promise<void>((resolve, reject) => {
        socket.addEventListener("message", (e) => {
          const event = JSON.parse(String(e.data));
          if (io.json) return io.out(JSON.stringify(event));
          if (event.type === "tasks") {
            for (const t of event.tasks) io.out(`${t.id.slice(0, 8)} ${t.effectiveStatus} ${t.title}`);
          } else if (event.type === "refusal") {
            io.out(`refused ${event.what} from ${short(event.from)}: ${event.reason}`);
          }
        });
        socket.addEventListener("close", () => resolve());
        socket.addEventListener(
          "error",
          () => reject(new WeftError("StreamFailed", "cli/unreachable", `cannot open ${client.url}/v1/stream`)),
        );
        process.once("SIGINT", () => socket.close());
      });
    },
  },
};
