/**
 * Every `weft` command by name, in the order `weft --help` lists them,
 * with the area file that defines it. Area files are imported only when
 * one of their commands runs (or for --help), so `weft id` never loads
 * the API client and `weft task list` never loads the daemon.
 *
 * To add a command: define it in its area's file (or a new
 * `<area>-commands.ts` exporting a Record<string, Command>) and list its
 * name here; tests/cli/registry.test.ts checks the two agree.
 */
import type { Command } from "./command.ts";

/** Loads an area file and gives back its commands, keyed by name. */
export type Area = () => Promise<Record<string, Command>>;

const identity: Area = async () => (await import("./identity-commands.ts")).IDENTITY_COMMANDS;
const up: Area = async () => (await import("./up-command.ts")).UP_COMMANDS;
const node: Area = async () => (await import("./node-commands.ts")).NODE_COMMANDS;
const space: Area = async () => (await import("./space-commands.ts")).SPACE_COMMANDS;
const task: Area = async () => (await import("./task-commands.ts")).TASK_COMMANDS;
const cap: Area = async () => (await import("./cap-commands.ts")).CAP_COMMANDS;
const run: Area = async () => (await import("./run-commands.ts")).RUN_COMMANDS;
const artifact: Area = async () => (await import("./artifact-commands.ts")).ARTIFACT_COMMANDS;
const bridge: Area = async () => (await import("./bridge-commands.ts")).BRIDGE_COMMANDS;
const nostr: Area = async () => (await import("./nostr-commands.ts")).NOSTR_COMMANDS;
const image: Area = async () => (await import("./image-commands.ts")).IMAGE_COMMANDS;
const nix: Area = async () => (await import("./nix-commands.ts")).NIX_COMMANDS;
const llm: Area = async () => (await import("./llm-commands.ts")).LLM_COMMANDS;
const speckit: Area = async () => (await import("./speckit-commands.ts")).SPECKIT_COMMANDS;
const repo: Area = async () => (await import("./repo-commands.ts")).REPO_COMMANDS;
const patch: Area = async () => (await import("./patch-commands.ts")).PATCH_COMMANDS;
const ciAdapter: Area = async () => (await import("./ci-adapter-command.ts")).CI_ADAPTER_COMMANDS;
const agent: Area = async () => (await import("./agent-commands.ts")).AGENT_COMMANDS;
const approval: Area = async () => (await import("./approval-commands.ts")).APPROVAL_COMMANDS;
const mcp: Area = async () => (await import("./mcp-commands.ts")).MCP_COMMANDS;
const kube: Area = async () => (await import("./kube-commands.ts")).KUBE_COMMANDS;

export const AREAS: readonly Area[] = [
  identity,
  up,
  node,
  space,
  task,
  patch,
  speckit,
  cap,
  run,
  artifact,
  image,
  nix,
  bridge,
  kube,
  nostr,
  llm,
  repo,
  mcp,
  ciAdapter,
  agent,
  approval,
];

export const REGISTRY: ReadonlyMap<string, Area> = new Map([
  ["init", identity],
  ["up", up],
  ["id", identity],
  ["join", node],
  ["space create", space],
  ["space list", space],
  ["space invite", space],
  ["space join", space],
  ["space members", space],
  ["space revoke", space],
  ["task add", task],
  ["task list", task],
  ["task show", task],
  ["task edit", task],
  ["task comment", task],
  ["task claim", task],
  ["task cancel", task],
  ["task graph", task],
  ["task watch", task],
  ["task import", speckit],
  ["task export", speckit],
  ["repo create", repo],
  ["repo list", repo],
  ["repo show", repo],
  ["patch propose", patch],
  ["patch list", patch],
  ["patch show", patch],
  ["patch review", patch],
  ["patch revise", patch],
  ["patch merge", patch],
  ["patch close", patch],
  ["cap delegate", cap],
  ["cap revoke", cap],
  ["cap list", cap],
  ["cap powerlines", cap],
  ["cap unpower", cap],
  ["cap inspect", cap],
  ["bridge list", bridge],
  ["bridge grant", bridge],
  ["kube node status", kube],
  ["kube node cordon", kube],
  ["kube node uncordon", kube],
  ["nostr address", nostr],
  ["nostr pair", nostr],
  ["llm test", llm],
  ["llm key", llm],
  ["agent add", agent],
  ["agent list", agent],
  ["agent show", agent],
  ["agent pause", agent],
  ["agent resume", agent],
  ["agent revoke", agent],
  ["agent approvals", approval],
  ["agent approve", approval],
  ["agent deny", approval],
  ["agent gates", approval],
  ["agent run", agent],
  ["agent status", agent],
  ["agent transcript", agent],
  ["peers", node],
  ["capacity", node],
  ["relay-key", identity],
  ["run", run],
  ["pods", run],
  ["pod", run],
  ["logs", run],
  ["evict", run],
  ["ci-adapter", ciAdapter],
  ["artifact ls", artifact],
  ["artifact put", artifact],
  ["artifact get", artifact],
  ["artifact verify", artifact],
  ["image import", image],
  ["nix gc", nix],
  ["token", node],
  ["pair", node],
  ["cli rotate", node],
  ["mcp", mcp],
  ["mcp key", mcp],
  ["mcp grant", mcp],
]);

/** The command called `name`, loading only its area. */
export async function loadCommand(name: string): Promise<Command> {
  const area = REGISTRY.get(name);
  const command = area && (await area())[name];
  if (!command) throw new Error(`weft: ${name} is registered but its area does not define it`);
  return command;
}
