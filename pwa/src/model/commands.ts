/**
 * The command bar's language: `task add …`, `claim 3fa`, `run wasm …` and
 * the rest, each a short line naming tasks by id prefix. Parsing and
 * running live here, apart from the UI, so every command is one call into
 * the node (or a navigation) and reports what happened in one sentence.
 */
import { WeftError } from "#protocol";
import { parseBlobCid } from "#protocol/node";
import { RUN_PATH } from "#protocol/runner";
import { newTaskId, type Space } from "#protocol/space";
import type { TaskView } from "#protocol/tasks";
import type { BrowserNode } from "../node/browser-node.ts";
import { actions } from "./actions.ts";
import { SPACE_VIEWS, spaceHref, taskHref } from "./route.ts";
import { resolveTask, shortId } from "./task-ref.ts";
import { searchTasks } from "./search.ts";

export interface CommandContext {
  bn: BrowserNode;
  space?: Space;
  go(hash: string): void;
}

export interface CommandSpec {
  name: string;
  usage: string;
  help: string;
  run(ctx: CommandContext, rest: string): Promise<string>;
}

const bad = (msg: string) => new WeftError("InvalidInput", "input/command", msg);

function needSpace(ctx: CommandContext): Space {
  if (!ctx.space) throw bad("open a space first (command: space <name>)");
  return ctx.space;
}

function task(ctx: CommandContext, ref: string): { space: Space; task: TaskView } {
  const space = needSpace(ctx);
  if (!ref) throw bad("name a task by its id or the start of it");
  return { space, task: space.task(resolveTask(space, ref)) as TaskView };
}

/** A task by its id or an unambiguous start of it, else the best match for words of its title or labels. */
function findTask(space: Space, ref: string): TaskView {
  if (!ref.trim()) throw bad("name a task: its id, words of its title or a #label");
  try {
    return space.task(resolveTask(space, ref)) as TaskView;
  } catch {
    const [best] = searchTasks(space, ref, 1);
    if (!best) {
      throw new WeftError(
        "NotFound",
        "not-found",
        `no task matches "${ref.trim()}": try words of its title, a #label or its id`,
      );
    }
    return best;
  }
}

/** `first rest…` → [first, rest]. */
function split(s: string): [string, string] {
  const t = s.trim();
  const i = t.search(/\s/);
  return i < 0 ? [t, ""] : [t.slice(0, i), t.slice(i + 1).trim()];
}

/** Title words, `#labels`, `after <task>` dependencies and `key=value` requirements out of one line. */
function taskInput(space: Space, text: string) {
  const words = text.trim().split(/\s+/).filter(Boolean);
  const title: string[] = [];
  const labels: string[] = [];
  const deps: string[] = [];
  const req: Record<string, string[]> = {};
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    if (w.startsWith("#") && w.length > 1) labels.push(w.slice(1));
    else if (w === "after" && words[i + 1]) deps.push(resolveTask(space, words[++i]));
    else if (/^(gpu|cpu|mem|tag)=\S+$/.test(w)) {
      const [k, v] = w.split("=", 2);
      (req[k] ??= []).push(v);
    } else title.push(w);
  }
  if (title.length === 0) throw bad("a task needs a title");
  const num = (k: string) => (req[k] ? Number(req[k][0]) : undefined);
  for (const k of ["gpu", "cpu", "mem"]) {
    const n = num(k);
    if (n !== undefined && !(n >= 0)) throw bad(`${k}= takes a number`);
  }
  const requirements = {
    ...(num("gpu") !== undefined ? { gpu: Math.floor(num("gpu")!) } : {}),
    ...(num("cpu") !== undefined ? { cpu: num("cpu")! } : {}),
    ...(num("mem") !== undefined ? { memoryMb: Math.floor(num("mem")!) } : {}),
    ...(req.tag ? { tags: req.tag } : {}),
  };
  return { title: title.join(" "), labels, deps, requirements };
}

async function create(ctx: CommandContext, text: string, runner?: string): Promise<string> {
  const space = needSpace(ctx);
  const { title, labels, deps, requirements } = taskInput(space, text);
  const req = runner ? { ...requirements, runner } : requirements;
  const t = await space.createTask({
    title,
    ...(labels.length ? { labels } : {}),
    ...(deps.length ? { deps } : {}),
    ...(Object.keys(req).length ? { requirements: req } : {}),
  });
  return `created ${shortId(t.id)} “${t.title}”${runner ? ` for a ${runner} runner` : ""}`;
}

const isBlobCid = (text: string) => {
  try {
    parseBlobCid(text);
    return true;
  } catch {
    return false;
  }
};

/** A job: the program by CID, its arguments, inputs as `path=cid`, a memory limit and tag selectors. */
async function submitJob(ctx: CommandContext, program: string, text: string): Promise<string> {
  const space = needSpace(ctx);
  const args: string[] = [];
  const inputs: { path: string; cid: string }[] = [];
  const tags: string[] = [];
  let memoryMb = 512;
  for (const w of text.split(/\s+/).filter(Boolean)) {
    const eq = w.indexOf("=");
    const [k, v] = eq > 0 ? [w.slice(0, eq), w.slice(eq + 1)] : ["", w];
    if (k === "tag") tags.push(v);
    else if (k === "mem") {
      memoryMb = Number(v);
      if (!Number.isInteger(memoryMb) || memoryMb < 1) throw bad("mem= takes a whole number of MB");
    } else if (k && RUN_PATH.test(k) && isBlobCid(v)) inputs.push({ path: k, cid: v });
    else args.push(w);
  }
  const title = `run ${program.slice(-8)}${args.length ? ` ${args.join(" ")}` : ""}`.slice(0, 200);
  const t = await space.act("create", {
    task: newTaskId(),
    title,
    run: {
      runner: "wasm",
      program,
      args,
      inputs,
      env: [],
      limits: { wallMs: 10 * 60_000, memoryMb, outputBytes: 64 * 1024 * 1024 },
    },
    ...(tags.length ? { requirements: { tags } } : {}),
    idempotencyKey: crypto.randomUUID(),
  });
  return `submitted ${shortId(t.id)} “${t.title}”`;
}

const taskAction = (
  name: string,
  help: string,
  act: (space: Space, t: TaskView, rest: string) => Promise<TaskView>,
  said: (t: TaskView) => string,
  usage = `${name} <task>`,
): CommandSpec => ({
  name,
  usage,
  help,
  async run(ctx, rest) {
    const [ref, more] = split(rest);
    const { space, task: t } = task(ctx, ref);
    return said(await act(space, t, more));
  },
});

export const COMMANDS: CommandSpec[] = [
  {
    name: "task add",
    usage: "task add <title> [#label…] [after <task>…]",
    help: "File a task",
    run: (ctx, rest) => create(ctx, rest),
  },
  {
    name: "run",
    usage: "run wasm <program-cid> [arg…] [path=<input-cid>…] [mem=MB] [tag=x…] | run <runner> <title> [gpu=1]…",
    help: "Run a WASM component on the best live node, or file a task for a runner kind with requirements",
    run(ctx, rest) {
      const [runner, more] = split(rest);
      if (!/^[a-z0-9-]+$/.test(runner)) throw bad("name the runner kind first, e.g. run wasm Build the docs");
      const [first, args] = split(more);
      if (runner === "wasm" && isBlobCid(first)) return submitJob(ctx, first, args);
      return create(ctx, more, runner);
    },
  },
  taskAction(
    "claim",
    "Take a lease on a task",
    (s, t) => actions.claim(s, t),
    (t) =>
      `claimed ${shortId(t.id)} (fence ${t.lease?.fence}, lease until ${
        new Date(t.lease?.expires ?? 0).toLocaleTimeString()
      })`,
  ),
  taskAction(
    "renew",
    "Extend your lease",
    (s, t) => actions.renew(s, t),
    (t) => `renewed ${shortId(t.id)} until ${new Date(t.lease?.expires ?? 0).toLocaleTimeString()}`,
  ),
  taskAction(
    "release",
    "Give a claimed task back",
    (s, t) => actions.release(s, t),
    (t) => `released ${shortId(t.id)}`,
  ),
  taskAction(
    "start",
    "Mark a claimed task running",
    (s, t) => actions.start(s, t),
    (t) => `${shortId(t.id)} is running`,
  ),
  taskAction(
    "comment",
    "Comment on a task",
    (s, t, body) => {
      if (!body) throw bad("comment <task> <text>");
      return actions.comment(s, t, body);
    },
    (t) => `commented on ${shortId(t.id)}`,
    "comment <task> <text>",
  ),
  taskAction(
    "label",
    "Add (+x or x) and remove (-x) labels",
    (s, t, rest) => {
      const words = rest.split(/\s+/).filter(Boolean);
      if (words.length === 0) throw bad("label <task> +add -remove");
      const add = words.filter((w) => !w.startsWith("-")).map((w) => w.replace(/^[+#]/, ""));
      const remove = words.filter((w) => w.startsWith("-")).map((w) => w.slice(1));
      return actions.label(s, t, add, remove);
    },
    (t) => `${shortId(t.id)} labels: ${t.labels.join(", ") || "none"}`,
    "label <task> +add -remove",
  ),
  taskAction(
    "dep",
    "Make a task wait for another",
    (s, t, rest) => actions.depend(s, t, resolveTask(s, rest.replace(/^on\s+/, ""))),
    (t) => `${shortId(t.id)} depends on ${t.deps.map(shortId).join(", ")}`,
    "dep <task> on <task>",
  ),
  taskAction(
    "undep",
    "Remove a dependency",
    (s, t, rest) => actions.undepend(s, t, resolveTask(s, rest.replace(/^on\s+/, ""))),
    (t) => `${shortId(t.id)} depends on ${t.deps.map(shortId).join(", ") || "nothing"}`,
    "undep <task> on <task>",
  ),
  taskAction(
    "approve",
    "Approve a task in review",
    (s, t, note) => actions.approve(s, t, note),
    (t) => `approved ${shortId(t.id)}: ${t.status}`,
    "approve <task> [note]",
  ),
  taskAction(
    "reject",
    "Send a task in review back",
    (s, t, note) => actions.reject(s, t, note),
    (t) => `rejected ${shortId(t.id)}: ${t.status}`,
    "reject <task> [note]",
  ),
  taskAction(
    "close",
    "Close a task by hand as done (default) or failed",
    (s, t, how) => (how === "failed" ? actions.failed(s, t) : actions.done(s, t)),
    (t) => `${shortId(t.id)} is ${t.status}`,
    "close <task> [done|failed]",
  ),
  taskAction("cancel", "Cancel a task", (s, t) => actions.cancel(s, t), (t) => `cancelled ${shortId(t.id)}`),
  {
    name: "open",
    usage: "open <task: id, title words, #label>",
    help: "Show a task",
    run(ctx, rest) {
      const space = needSpace(ctx);
      const t = findTask(space, rest);
      ctx.go(taskHref(space.id, t.id));
      return Promise.resolve(`opened ${shortId(t.id)}`);
    },
  },
  {
    name: "go",
    usage: `go <${[...SPACE_VIEWS, "spaces", "settings"].join("|")}>`,
    help: "Switch view",
    run(ctx, rest) {
      const view = rest.trim();
      if (view === "spaces" || view === "settings") ctx.go(`#/${view}`);
      else if ((SPACE_VIEWS as readonly string[]).includes(view)) {
        ctx.go(spaceHref(needSpace(ctx).id, view as (typeof SPACE_VIEWS)[number]));
      } else throw bad(`no view ${view}`);
      return Promise.resolve(`showing ${view}`);
    },
  },
  {
    name: "space",
    usage: "space <name or DID>",
    help: "Switch space",
    async run(ctx, rest) {
      const s = ctx.bn.node.space(rest.trim());
      if (!s) throw new WeftError("NotFound", "not-found", `this node is in no space ${rest.trim()}`);
      await ctx.bn.openSpace(s.id);
      ctx.go(spaceHref(s.id, "tasks"));
      return `opened space ${s.name}`;
    },
  },
  {
    name: "new space",
    usage: "new space <name>",
    help: "Create a space whose root key stays in this browser",
    async run(ctx, rest) {
      if (!rest.trim()) throw bad("new space <name>");
      const s = await ctx.bn.createSpace(rest.trim());
      ctx.go(spaceHref(s.id, "tasks"));
      return `created space ${s.name}`;
    },
  },
  {
    name: "join",
    usage: "join <invite>",
    help: "Join a space with an invite from a member",
    async run(ctx, rest) {
      const joining = ctx.bn.join(rest);
      // A bad invite fails at once; a good one resolves when a member serves the space, maybe much later.
      const joined = await Promise.race([joining, new Promise<undefined>((r) => setTimeout(r, 1500))]);
      if (joined) {
        ctx.go(spaceHref(joined.id, "tasks"));
        return `joined ${joined.name}`;
      }
      ctx.go("#/spaces");
      joining.then((s) => ctx.go(spaceHref(s.id, "tasks")), () => {}); // past validation, joining only waits
      return "joining: waiting for a member to accept this device";
    },
  },
  {
    name: "connect",
    usage: "connect <host:port | ws(s):// URL> [relay]",
    help: "Keep connected to a peer or an edge relay",
    async run(ctx, rest) {
      const [address, relay] = split(rest);
      if (!address) throw bad("connect <address>");
      return `connecting to ${await ctx.bn.addPeer(address, relay === "relay")}`;
    },
  },
];

const ALIASES: Record<string, string> = { add: "task add", new: "task add", t: "task add" };

/** The command a line starts with, and the rest of the line. */
export function findCommand(input: string): { spec: CommandSpec; rest: string } | undefined {
  const line = input.trim();
  const lower = line.toLowerCase();
  const byLength = [...COMMANDS].sort((a, b) => b.name.length - a.name.length);
  for (const spec of byLength) {
    if (lower === spec.name || lower.startsWith(spec.name + " ")) {
      return { spec, rest: line.slice(spec.name.length).trim() };
    }
  }
  const [first, rest] = split(line);
  const alias = ALIASES[first.toLowerCase()];
  const spec = alias ? COMMANDS.find((c) => c.name === alias) : undefined;
  return spec ? { spec, rest } : undefined;
}

export function runCommand(ctx: CommandContext, input: string): Promise<string> {
  const found = findCommand(input);
  if (!found) return Promise.reject(bad(`unknown command: ${split(input)[0]} (type to see the commands)`));
  return found.spec.run(ctx, found.rest);
}

/** Commands whose name starts like the input (for suggestions). */
export function suggest(input: string): CommandSpec[] {
  const q = input.trim().toLowerCase();
  if (!q) return COMMANDS;
  const found = findCommand(q);
  if (found) return [found.spec];
  return COMMANDS.filter((c) => c.name.startsWith(q) || c.name.includes(q));
}
