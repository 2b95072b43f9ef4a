/**
 * `weft agent add|list|show|pause|resume|revoke`: agents this peer runs.
 * `add` makes the agent's key on this peer (a 0600 file, never
 * replicated) and delegations from your authority saying what it may do:
 * claim tasks carrying its labels, comment, push under
 * refs/heads/agent/<name>/, propose patches, run its runner kinds, and
 * spend within its budget — which every node enforces. `pause` stops its
 * calls and jobs here within seconds and every node refuses its later
 * operations; `revoke` ends its delegations for good. `run` runs its loop
 * here (peer/agents/loop): a task to a proposed patch, once or until stopped;
 * `add --run` (or weft.toml's `[agents] run`) has the daemon run it by
 * itself, and `status` shows what each agent's loop is doing.
 */
import { parseUsd, type TranscriptEvent } from "#protocol/agents";
import { errorCodeOf, WeftError } from "#protocol";
import { InvalidInput } from "#protocol/schema";
import { count, enc, need, seconds, str, Usage } from "./args.ts";
import { type Command, type Io, resolveSpace } from "./command.ts";
import type { Values } from "./args.ts";
import { short, table } from "./output.ts";

interface Amount {
  usd: number;
  tokens: number;
}
interface AgentView {
  name: string;
  did: string;
  state: string;
  labels: string[];
  runners: string[];
  budget: { usd?: number; tokens?: number; dayUsd?: number };
  left: { usd?: number; tokens?: number };
  spent: Amount;
  reserved: Amount;
  reservations: number;
  refused: number;
  expires: number | null;
  delegations: { command: string; cid: string }[];
  tasks: Record<string, { spent: Amount; reserved: Amount; reservations: number }>;
  pause?: { by: string; reason?: string };
  /** Its loop on this peer: what it does now or did last. */
  loop?: LoopOutcome & { step: string; approval?: { request: string; kind: string }; lease?: { expires: number } };
  /** Whether the daemon runs it by itself, and what that driver is doing. */
  auto?: { state: string; why?: string };
}

const usd = (micro: number | undefined) =>
  micro === undefined ? "-" : `$${(micro / 1e6).toFixed(6).replace(/0{1,4}$/, "")}`;

/** Money given on the command line, as a usage error if it is not an amount. */
function money(v: Values, k: string): number | undefined {
  const text = str(v, k);
  if (text === undefined) return undefined;
  try {
    return parseUsd(text);
  } catch (e) {
    throw e instanceof InvalidInput ? new Usage(`--${k}: ${e.message}`) : e;
  }
}

const path = async (io: Io, v: Values, name?: string) =>
  `/v1/spaces/${enc(await resolveSpace(io, v))}/agents${name === undefined ? "" : `/${enc(name)}`}`;

/** A transcript event as a person reads it in a terminal; undefined for what needs no line. */
function transcriptLine(e: TranscriptEvent): string | undefined {
  switch (e.type) {
    case "status":
      return `-- ${e.step}, turn ${e.turn}${e.task ? ` on ${e.task}` : ""}${e.job ? `, tests ${e.job}` : ""}${
        e.approval ? `, waiting for approval ${e.approval.request}` : ""
      }${e.outcome ? `; ended: ${e.outcome.kind}${e.outcome.reason ? ` (${e.outcome.reason})` : ""}` : ""}`;
    case "gap":
      return `-- entries ${e.from} to ${e.to - 1} (${e.chars} characters) left out`;
    case "entry": {
      const who = e.role === "assistant" ? "model" : e.role === "user" ? "loop" : "system";
      const cost = e.usage
        ? ` (turn ${e.turn}, ${e.usage.inputTokens + e.usage.outputTokens} tokens, ${usd(e.usage.costMicroUsd)})`
        : "";
      return `[${e.n}] ${who}${cost}:\n${e.content}${e.cut ? `\n… ${e.cut} more characters not shown` : ""}`;
    }
    case "end":
      return undefined;
  }
}

function describe(a: AgentView): string {
  const lines = [
    `${a.name}  ${a.did}  ${a.state}${
      a.pause ? ` (paused by ${short(a.pause.by)}${a.pause.reason ? `: ${a.pause.reason}` : ""})` : ""
    }`,
    `  labels   ${a.labels.join(", ")}`,
    `  runners  ${a.runners.join(", ") || "-"}`,
    `  budget   ${usd(a.budget.usd)}${a.budget.tokens !== undefined ? `, ${a.budget.tokens} tokens` : ""}${
      a.budget.dayUsd !== undefined ? `, ${usd(a.budget.dayUsd)} a day` : ""
    }`,
    `  spent    ${usd(a.spent.usd)}, ${a.spent.tokens} tokens (reserved in flight: ${usd(a.reserved.usd)})`,
    `  left     ${usd(a.left.usd)}${a.left.tokens !== undefined ? `, ${a.left.tokens} tokens` : ""}`,
    `  calls    ${a.reservations} reserved, ${a.refused} refused`,
    `  expires  ${a.expires === null ? "never" : new Date(a.expires * 1000).toISOString()}`,
  ];
  const tasks = Object.entries(a.tasks);
  if (tasks.length > 0) {
    lines.push("  per task:");
    for (const [id, t] of tasks) lines.push(`    ${id}  ${usd(t.spent.usd)} spent, ${usd(t.reserved.usd)} reserved`);
  }
  return lines.join("\n");
}

const simple = (verb: "pause" | "resume" | "revoke", summary: string): Command => ({
  usage: `weft agent ${verb} <name|did>${verb === "pause" ? " [--reason text]" : ""} [--space <s>]`,
  summary,
  options: verb === "pause" ? { reason: { type: "string" } } : {},
  async run(args, v, io) {
    const name = need(args, 0, "name");
    const client = await io.client();
    const at = await path(io, v, name);
    const reason = str(v, "reason");
    const a = verb === "revoke" ? await client.request<AgentView>("DELETE", at) : await client.request<AgentView>(
      "POST",
      `${at}/${verb}`,
      verb === "pause" ? (reason ? { reason } : {}) : undefined,
    );
    io.print(a, () => describe(a));
  },
});

export const AGENT_COMMANDS: Record<string, Command> = {
  "agent add": {
    usage:
      "weft agent add <name> --labels a,b [--budget 5usd] [--tokens N] [--per-day 1usd] [--runners container,nix] [--expires 7d] [--run] [--space <s>]",
    summary: "Make an agent on this peer: its own key, and a budgeted, propose-only delegation from you",
    options: {
      labels: { type: "string" },
      budget: { type: "string" },
      tokens: { type: "string" },
      "per-day": { type: "string" },
      runners: { type: "string" },
      expires: { type: "string" },
      run: { type: "boolean" },
    },
    async run(args, v, io) {
      const name = need(args, 0, "name");
      const split = (k: string) => (str(v, k) ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "");
      const labels = split("labels");
      if (labels.length === 0) {
        throw new Usage("--labels is required: the agent claims only tasks carrying one of them");
      }
      const budget = {
        ...(money(v, "budget") !== undefined ? { usd: money(v, "budget") } : {}),
        ...(count(v, "tokens") !== undefined ? { tokens: count(v, "tokens") } : {}),
        ...(money(v, "per-day") !== undefined ? { dayUsd: money(v, "per-day") } : {}),
      };
      if (budget.usd === undefined && budget.tokens === undefined) {
        throw new Usage("an agent needs a budget: --budget 5usd and/or --tokens N");
      }
      const expires = str(v, "expires");
      const a = await (await io.client()).request<AgentView>("POST", await path(io, v), {
        name,
        labels,
        runners: split("runners"),
        budget,
        ...(expires ? { expiration: Math.floor(Date.now() / 1000) + seconds(expires, "--expires") } : {}),
        ...(v.run ? { run: true } : {}),
      });
      io.print(a, () => `made agent ${a.name}: ${a.did}\n${describe(a)}`);
    },
  },
  "agent list": {
    usage: "weft agent list [--space <s>]",
    summary: "The agents this peer runs, with budget spent and left",
    async run(_a, v, io) {
      const r = await (await io.client()).get<{ agents: AgentView[] }>(await path(io, v));
      io.print(r, () =>
        table(
          r.agents.map((a) => ({
            name: a.name,
            did: short(a.did),
            state: a.state,
            spent: usd(a.spent.usd),
            left: usd(a.left.usd),
            tokens: a.spent.tokens,
            labels: a.labels,
          })),
          ["name", "did", "state", "spent", "left", "tokens", "labels"],
        ));
    },
  },
  "agent show": {
    usage: "weft agent show <name> [--space <s>]",
    summary: "An agent: what it holds, its budget spent and left, its spend per task",
    async run(args, v, io) {
      const a = await (await io.client()).get<AgentView>(await path(io, v, need(args, 0, "name")));
      io.print(a, () => describe(a));
    },
  },
  "agent status": {
    usage: "weft agent status [name] [--space <s>]",
    summary: "What each agent's loop on this peer is doing: its task, step, turn, the approval it waits for, its lease",
    async run(args, v, io) {
      const r = await (await io.client()).get<{ agents: AgentView[] }>(await path(io, v));
      const name = args[0];
      const shown = name === undefined ? r.agents : r.agents.filter((a) => a.name === name);
      if (name !== undefined && shown.length === 0) throw new Usage(`this peer runs no agent ${name} in this space`);
      io.print(
        { agents: shown.map((a) => ({ name: a.name, state: a.state, auto: a.auto, loop: a.loop })) },
        () =>
          table(
            shown.map((a) => ({
              name: a.name,
              state: a.state,
              runs: a.auto ? `by itself (${a.auto.state})` : "when asked",
              doing: doing(a),
              task: a.loop?.task ?? "-",
              turn: a.loop?.turn ?? "-",
            })),
            ["name", "state", "runs", "doing", "task", "turn"],
          ),
      );
    },
  },
  "agent transcript": {
    usage: "weft agent transcript <name | did> [--follow] [--from N] [--space <s>]",
    summary:
      "An agent's transcript as its loop works: the model's answers (with tokens and cost) and the tools' results, from this peer or, by DID, the member that runs it; --follow streams each turn as it happens",
    options: { follow: { type: "boolean", short: "f" }, from: { type: "string" } },
    async run(args, v, io) {
      const from = str(v, "from");
      if (from !== undefined && !/^[0-9]{1,9}$/.test(from)) throw new Usage("--from takes an entry number");
      const query = [v.follow ? "follow=true" : "", from !== undefined ? `from=${from}` : ""].filter(Boolean).join("&");
      const route = `${await path(io, v, need(args, 0, "name or did"))}/transcript${query ? `?${query}` : ""}`;
      for await (const event of (await io.client()).lines<TranscriptEvent>(route)) {
        if (io.json) io.out(JSON.stringify(event));
        else if (transcriptLine(event)) io.out(transcriptLine(event)!);
        if (event.type === "end" && event.code) {
          throw new WeftError(
            "Unavailable",
            errorCodeOf(event.code, "transcript/unreachable"),
            event.message ?? event.code,
          );
        }
      }
    },
  },
  "agent pause": simple("pause", "Pause an agent: its calls stop here, and every node refuses its later operations"),
  "agent resume": simple("resume", "Resume a paused agent"),
  "agent revoke": simple("revoke", "Revoke an agent's delegations for good, on every node"),
  "agent run": {
    usage: "weft agent run <name> [--once] [--turns N] [--time 20m] [--space <s>]",
    summary:
      "Run an agent's loop on this peer: claim a task with its labels, work on it with the model, test in a container, propose a patch",
    options: { once: { type: "boolean" }, turns: { type: "string" }, time: { type: "string" } },
    async run(args, v, io) {
      const name = need(args, 0, "name");
      const client = await io.client();
      const at = `${await path(io, v, name)}/run`;
      const time = str(v, "time");
      const body = {
        ...(count(v, "turns", 200) !== undefined ? { turns: count(v, "turns", 200) } : {}),
        ...(time ? { wallSeconds: Math.round(seconds(time, "--time")) } : {}),
      };
      while (true) {
        const r = await client.request<LoopOutcome>("POST", at, body);
        io.print(r, () => describeLoop(r));
        if (v.once) return;
        // Nothing to do: look again later rather than spin.
        if (r.outcome?.kind === "idle") await new Promise((resolve) => setTimeout(resolve, IDLE_WAIT_MS));
        if (r.outcome?.kind === "stopped") return;
      }
    },
  },
};

/** How long `weft agent run` waits after finding no task before it looks again. */
const IDLE_WAIT_MS = 15_000;

interface LoopOutcome {
  task?: string;
  turn: number;
  job?: string;
  timings: Record<string, number>;
  outcome?: { kind: string; patch?: string; reason?: string };
}

/** One line on what an agent's loop is doing now, or how its last pass ended. */
function doing(a: AgentView): string {
  const l = a.loop;
  if (!l) return a.auto?.why ?? "-";
  if (l.step !== "ended") {
    const wait = l.approval ? ` for approval ${l.approval.request} (${l.approval.kind}): weft agent approve` : "";
    const lease = l.lease ? `, lease to ${new Date(l.lease.expires).toISOString().slice(11, 19)}` : "";
    return `${l.step}${wait}${lease}`;
  }
  return describeLoop(l);
}

function describeLoop(r: LoopOutcome): string {
  const o = r.outcome;
  const how = o?.kind === "proposed" ? `proposed patch ${o.patch}` : `${o?.kind}${o?.reason ? `: ${o.reason}` : ""}`;
  const took = Object.entries(r.timings).map(([k, ms]) => `${k} ${(ms / 1000).toFixed(1)}s`).join(", ");
  return `${r.task ? `task ${r.task}: ` : ""}${how}${r.turn ? ` after ${r.turn} turns` : ""}${
    took ? ` (${took})` : ""
  }`;
}
