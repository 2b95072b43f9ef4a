#!/usr/bin/env node
/**
 * `weft`: the command line for a Weft peer. Every subcommand but `init`,
 * `up` and `cap inspect` talks to the local daemon over its HTTP API with
 * the credentials the daemon wrote to `$WEFT_HOME/cli.json`.
 */
import process from "node:process";
import { parseArgs } from "node:util";
import { access, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ApiClient } from "../api/client.ts";
import { loadCredentials } from "../api/credentials.ts";
import { defaultToml, loadConfig } from "../daemon/config.ts";
import { dataDirFromEnv, ensureDataDir } from "../data-dir.ts";
import { fileKeystore } from "../keystore/file-keystore.ts";
import { generateSeed, loadOrCreate, signerFromSeed } from "#protocol/identity";
import { fromBase64Url, toBase64Url, WeftError } from "#protocol";
import { decodeContainer, decodeEnvelope } from "#protocol/ucan";
import { decodeInvite } from "#protocol/space";
import type { TaskView } from "#protocol/tasks";
import { EXIT, exitCodeFor } from "./exit-codes.ts";
import { short, table } from "./output.ts";
import { runDaemon } from "../run-daemon.ts";
import {
  type Command,
  enc,
  type Io,
  list,
  need,
  plainNameArg,
  resolveSpace,
  seconds,
  str,
  Usage,
  type Values,
} from "./command.ts";
import { RUN_COMMANDS } from "./run-commands.ts";
import { ARTIFACT_COMMANDS } from "./artifact-commands.ts";
import { REVOKE_COMMAND } from "./revoke-command.ts";

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

interface StandingView {
  state: string;
  by?: string;
  at?: number;
}

/** A standing in a space, said plainly: a removed member must not read "synced". */
function standingText(st: StandingView | undefined): string {
  if (!st || st.state === "member") return "member";
  const when = st.at !== undefined ? ` at ${new Date(st.at).toISOString()}` : "";
  if (st.state === "revoked") return `revoked by ${st.by}${when}: no longer syncs this space`;
  if (st.state === "expired") return `expired${when}: needs a new invite`;
  return "not a member";
}

const COMMANDS: Record<string, Command> = {
  init: {
    usage: "weft init",
    summary: "Create the data dir, this peer's identity and a commented weft.toml",
    async run(_a, _v, io) {
      await ensureDataDir(io.home);
      const { signer, created } = await loadOrCreate(fileKeystore({ dir: join(io.home, "keys") }), "node");
      const toml = join(io.home, "weft.toml");
      const exists = await access(toml).then(() => true, () => false);
      if (!exists) await writeFile(toml, defaultToml("weft"), { mode: 0o644 });
      io.print(
        { did: signer.did, home: io.home, created },
        () =>
          `${created ? "created" : "found"} identity ${signer.did}\nconfig: ${toml}${
            exists ? " (kept)" : " (written)"
          }`,
      );
    },
  },
  up: {
    usage: "weft up",
    summary: "Start the peer in the foreground (same as npm start)",
    async run() {
      await runDaemon();
    },
  },
  id: {
    usage: "weft id",
    summary: "This peer's DID",
    async run(_a, _v, io) {
      const { signer } = await loadOrCreate(fileKeystore({ dir: join(io.home, "keys") }), "node");
      io.print({ did: signer.did }, () => signer.did);
    },
  },
  join: {
    usage: "weft join <multiaddr | ws-url> [--invite <token>]",
    summary: "Connect to a peer (kept connected) and optionally join a space with an invite",
    options: { invite: { type: "string" } },
    async run(a, v, io) {
      const address = need(a, 0, "multiaddr | ws-url");
      const client = await io.client();
      await client.request("POST", "/v1/peers", { address });
      const invite = str(v, "invite");
      if (!invite) return io.print({ connecting: address }, () => `connecting to ${address}`);
      const space = await client.request<{ id: string; name: string }>("POST", "/v1/spaces/join", {
        invite,
        peers: [address],
      });
      io.print(space, () => `joined ${space.name} (${space.id})`);
    },
  },
  "space create": {
    usage: "weft space create <name> [--grace 15m]",
    summary:
      "Create a space (--grace: how long work signed just before its signer's authority ended may wait to be seen)",
    options: { grace: { type: "string" } },
    async run(a, v, io) {
      const grace = str(v, "grace");
      const s = await (await io.client()).request<{ id: string; name: string }>("POST", "/v1/spaces", {
        name: plainNameArg(need(a, 0, "name"), "<name>", 200),
        ...(grace ? { graceSeconds: seconds(grace, "--grace") } : {}),
      });
      io.print(s, () => `created ${s.name} (${s.id})`);
    },
  },
  "space list": {
    usage: "weft space list",
    summary: "Spaces this peer is in",
    async run(_a, _v, io) {
      const r = await (await io.client()).get<{ spaces: Array<Record<string, unknown>> }>("/v1/spaces");
      io.print(
        r,
        () =>
          table(
            r.spaces.map((s) => ({ ...s, standing: standingText(s.standing as StandingView | undefined) })),
            ["name", "id", "tasks", "members", "standing"],
          ),
      );
    },
  },
  "space invite": {
    usage: "weft space invite [--to <did>] [--command /weft] [--expires 7d] [--name <n>] [--peer <addr>]...",
    summary: "Make an invite: for a DID, or (without --to) a link anyone holding it can use",
    options: {
      to: { type: "string" },
      command: { type: "string" },
      expires: { type: "string" },
      name: { type: "string" },
      peer: { type: "string", multiple: true },
    },
    async run(_a, v, io) {
      const space = await resolveSpace(io, v);
      const expires = str(v, "expires");
      const r = await (await io.client()).request<{ invite: string }>("POST", `/v1/spaces/${enc(space)}/invites`, {
        ...(str(v, "to") ? { audience: str(v, "to") } : {}),
        ...(str(v, "command") ? { command: str(v, "command") } : {}),
        ...(expires ? { expiration: Math.floor(Date.now() / 1000) + seconds(expires, "--expires") } : {}),
        ...(str(v, "name") ? { name: plainNameArg(str(v, "name")!, "--name", 64) } : {}),
        ...(list(v, "peer").length ? { peers: list(v, "peer") } : {}),
      });
      io.print(r, () => r.invite);
    },
  },
  "space join": {
    usage: "weft space join <invite> [--peer <addr>]...",
    summary: "Join a space with an invite",
    options: { peer: { type: "string", multiple: true } },
    async run(a, v, io) {
      const invite = need(a, 0, "invite");
      const peers = [...list(v, "peer"), ...(decodeInvite(invite).peers ?? [])];
      const s = await (await io.client()).request<{ id: string; name: string }>("POST", "/v1/spaces/join", {
        invite,
        peers,
      });
      io.print(s, () => `joined ${s.name} (${s.id})`);
    },
  },
  "space members": {
    usage: "weft space members [--space <s>]",
    summary: "Members, devices and agents, with what they hold",
    async run(_a, v, io) {
      const space = await resolveSpace(io, v);
      const r = await (await io.client()).get<{
        members: Array<Record<string, unknown>>;
        removed: Array<StandingView & { did: string; name?: string }>;
      }>(`/v1/spaces/${enc(space)}/members`);
      io.print(
        r,
        () =>
          [
            table(r.members.map((m) => ({ ...m, by: short(m.by as string) })), [
              "name",
              "kind",
              "did",
              "commands",
              "by",
            ]),
            ...(r.removed.length > 0 ? ["", "removed:"] : []),
            ...r.removed.map((m) => `  ${m.name ?? "-"}  ${m.did}  ${standingText(m)}`),
          ].join("\n"),
      );
    },
  },
  "space revoke": REVOKE_COMMAND,
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
  "cap delegate": {
    usage:
      "weft cap delegate --to <did> --command <cmd> [--expires 30d] [--policy '<json>'] [--name n] [--kind member|device|agent] [--powerline]",
    summary: "Delegate a capability from this peer (attenuated by command, policy, expiry)",
    options: {
      to: { type: "string" },
      command: { type: "string" },
      expires: { type: "string" },
      policy: { type: "string" },
      name: { type: "string" },
      kind: { type: "string" },
      powerline: { type: "boolean" },
    },
    async run(_a, v, io) {
      if (!str(v, "to") || !str(v, "command")) throw new Usage("--to and --command are required");
      let policy: unknown;
      if (str(v, "policy")) {
        try {
          policy = JSON.parse(str(v, "policy")!);
        } catch {
          throw new Usage('--policy is JSON, e.g. \'[["like", ".title", "docs*"]]\'');
        }
      }
      // A powerline is node-wide (every space this peer is in), so it has its own node-admin route.
      const path = v.powerline ? "/v1/capabilities" : `/v1/spaces/${enc(await resolveSpace(io, v))}/capabilities`;
      const r = await (await io.client()).request<{ cid: string; container: string }>(
        "POST",
        path,
        {
          audience: str(v, "to"),
          command: str(v, "command"),
          ...(policy ? { policy } : {}),
          ...(str(v, "expires")
            ? { expiration: Math.floor(Date.now() / 1000) + seconds(str(v, "expires")!, "--expires") }
            : {}),
          ...(str(v, "name") ? { name: plainNameArg(str(v, "name")!, "--name", 64) } : {}),
          ...(str(v, "kind") ? { kind: str(v, "kind") } : {}),
        },
      );
      io.print(r, () => `delegated ${r.cid}\nchain (give this to the delegate): ${r.container}`);
    },
  },
  "cap revoke": { ...REVOKE_COMMAND, usage: REVOKE_COMMAND.usage.replace("space revoke", "cap revoke") },
  "cap list": {
    usage: "weft cap list",
    summary: "Delegations in the space",
    async run(_a, v, io) {
      const space = await resolveSpace(io, v);
      const r = await (await io.client()).get<{ capabilities: Array<Record<string, unknown>> }>(
        `/v1/spaces/${enc(space)}/capabilities`,
      );
      io.print(
        r,
        () =>
          table(
            r.capabilities.map((c) => ({
              ...c,
              iss: short(c.iss as string),
              aud: short(c.aud as string),
              name: (c.meta as { name?: string }).name,
            })),
            ["cid", "iss", "aud", "cmd", "name", "exp", "revoked"],
          ),
      );
    },
  },
  "cap inspect": {
    usage: "weft cap inspect <container | base64 token | invite>",
    summary: "Decode a token, container or invite and show what it grants (offline)",
    async run(a, _v, io) {
      const text = need(a, 0, "token");
      const tokens = text.startsWith("weft-invite:")
        ? decodeInvite(text).tokens
        : await decodeContainer(text).catch(() => [fromBase64Url(text)]);
      const decoded = tokens.map((t) => {
        const env = decodeEnvelope(t);
        return { cid: env.cid.toString(), type: env.tag, ...env.payload };
      });
      io.print(
        decoded,
        () =>
          JSON.stringify(
            decoded,
            (_k, x) => (x instanceof Uint8Array ? `<${x.length} bytes>` : x?.asCID ? x.toString() : x),
            2,
          ),
      );
    },
  },
  peers: {
    usage: "weft peers",
    summary: "Connected peers",
    async run(_a, _v, io) {
      const r = await (await io.client()).get<{ peers: Array<Record<string, unknown>> }>("/v1/peers");
      io.print(r, () => table(r.peers, ["peerId", "addresses"]));
    },
  },
  capacity: {
    usage: "weft capacity",
    summary: "Capacity adverts of live nodes",
    async run(_a, _v, io) {
      const r = await (await io.client()).get<{ nodes: Array<Record<string, any>> }>("/v1/capacity");
      io.print(
        r,
        () =>
          table(
            r.nodes.map((n) => ({
              node: short(n.node),
              cores: n.cpu.cores,
              load: n.cpu.load,
              memFreeMb: n.memoryMb.free,
              gpus: n.gpus,
              runners: n.runners,
              tags: n.tags,
              expires: new Date(n.expires).toISOString(),
            })),
            ["node", "cores", "load", "memFreeMb", "gpus", "runners", "tags", "expires"],
          ),
      );
    },
  },
  "relay-key": {
    usage: "weft relay-key",
    summary: "Make a new relay key: a base64url seed for WEFT_RELAY_KEY, and the DID it gives",
    async run(_a, _v, io) {
      const seed = generateSeed();
      const did = (await signerFromSeed(seed)).did;
      io.print(
        { key: toBase64Url(seed), did },
        () => `WEFT_RELAY_KEY=${toBase64Url(seed)}\n# relay DID: ${did} (keep the key secret)`,
      );
    },
  },
  ...RUN_COMMANDS,
  ...ARTIFACT_COMMANDS,
  token: {
    usage: "weft token [METHOD PATH]",
    summary: "Print a one-use bearer for an API request (default: GET /v1/node), e.g. for curl",
    async run(a, _v, io) {
      const bearer = await (await io.client()).bearer((a[0] ?? "GET").toUpperCase(), a[1] ?? "/v1/node");
      io.print({ bearer }, () => bearer);
    },
  },
};

function help(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  const groups = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)} ${c.summary}`);
  return `weft — a local-first, agent-first development mesh

usage: weft <command> [options]    (--help on any command; --json on any read)

${groups.join("\n")}

global options:
  --json          machine-readable output
  --space <s>     the space (name or DID) for space and task commands (or WEFT_SPACE)
  --url <url>     the peer's API (default: from $WEFT_HOME/cli.json)

environment: WEFT_HOME (data dir, default ./.weft)
exit codes: 0 ok, 1 error, 2 bad usage or input, 3 not found, 4 conflict, 5 not allowed, 69 peer unreachable`;
}

export async function main(argv: string[]): Promise<number> {
  const out = (text: string) => process.stdout.write(text + "\n");
  const err = (text: string) => process.stderr.write(text + "\n");
  const words: string[] = [];
  for (const w of argv) {
    if (w.startsWith("-")) break;
    words.push(w);
  }
  const key = COMMANDS[`${words[0]} ${words[1]}`]
    ? `${words[0]} ${words[1]}`
    : COMMANDS[words[0]]
    ? words[0]
    : undefined;
  if (!key) {
    if (words.length === 0 || argv.includes("--help") || argv.includes("-h") || words[0] === "help") {
      out(help());
      return words.length === 0 && !argv.includes("--help") && !argv.includes("-h") && words[0] !== "help"
        ? EXIT.usage
        : EXIT.ok;
    }
    err(`weft: unknown command ${words.join(" ")}\n\n${help()}`);
    return EXIT.usage;
  }
  const command = COMMANDS[key];
  const rest = argv.slice(key.split(" ").length);
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
        space: { type: "string" },
        url: { type: "string" },
        ...command.options,
      },
    });
  } catch (e) {
    err(`weft ${key}: ${(e as Error).message}\nusage: ${command.usage}`);
    return EXIT.usage;
  }
  const v = parsed.values as Values;
  if (v.help) {
    out(`usage: ${command.usage}\n\n${command.summary}`);
    return EXIT.ok;
  }
  const home = dataDirFromEnv(process.env);
  let client: ApiClient | undefined;
  const io: Io = {
    home,
    json: Boolean(v.json),
    out,
    print: (value, human) => out(v.json ? JSON.stringify(value, null, 2) : human()),
    client: async () => (client ??= new ApiClient(await loadCredentials(home), str(v, "url"))),
  };
  try {
    if (key !== "up" && key !== "init" && key !== "id" && key !== "cap inspect") await loadConfig(process.env);
    await command.run(parsed.positionals, v, io);
    return EXIT.ok;
  } catch (e) {
    err(`weft ${key}: ${e instanceof WeftError ? e.message : (e as Error)?.stack ?? e}`);
    if (e instanceof Usage) err(`usage: ${command.usage}`);
    return exitCodeFor(e);
  }
}

if (import.meta.main) {
  const code = await main(process.argv.slice(2));
  if (code !== EXIT.ok || process.argv[2] !== "up") process.exit(code);
}
