/**
 * Carrying out what a paired person asked for by DM, as the bridge, under
 * that person's own delegation to it (`via`: only chains whose last link
 * they made), in the spaces where they made one. A DM is intent, not
 * authority: what they did not delegate is refused, with a plain answer
 * saying what to grant. Reads (status, tasks) show only those spaces.
 */
import type { BridgeContext, BridgeSpace } from "#protocol/bridge";
import { isWeftError } from "#protocol";
import { Commands } from "#protocol/ucan";
import type { TaskView } from "#protocol/tasks";
import { newTaskId } from "#protocol/space";
import { type DmCommand, HELP } from "./commands.ts";
import { answerByDm } from "./answer-by-dm.ts";
import { refusal } from "./refusal.ts";
import { chatByDm } from "./dm-chat.ts";
import { agentsNamed, tellAgent } from "./tell-agent.ts";
import type { ModelLedger } from "./model-ledger.ts";
import { NOTIFY_ABOUT, NOTIFY_KINDS, type NotifyPrefs } from "./notify-prefs.ts";

const UNFINISHED = ["open", "claimed", "running", "review"] as const;
const LISTED = 15;

/** The spaces where `person` has delegated something to the bridge. */
function spacesOf(context: BridgeContext, person: string): BridgeSpace[] {
  return context.spaces().filter((s) => s.grants().some((g) => g.iss === person));
}

function pick(spaces: BridgeSpace[], named: string | undefined, home: string): BridgeSpace | string {
  if (named !== undefined) {
    const hit = spaces.find((s) => s.id === named || s.name === named);
    return hit ?? `You have no space "${named}" with me. Yours: ${spaces.map((s) => s.name).join(", ") || "none"}.`;
  }
  const space = spaces.find((s) => s.id === home) ?? (spaces.length === 1 ? spaces[0] : undefined);
  return space ?? `Name the space: "new task in <space>: …". Yours: ${spaces.map((s) => s.name).join(", ")}.`;
}

const short = (t: TaskView) => `${t.id.slice(0, 6)} ${t.status} ${t.title}`;

export interface Asker {
  did: string;
  /** The space they paired in: the default for commands that name none. */
  space: string;
  /** The DM's rumor id: makes a retried "new task" create one task. */
  message: string;
  /** Their Nostr key: what their notification settings are kept under. */
  pubkey: string;
}

/** The bridge's settings and state that commands read. */
export interface CommandSettings {
  /** How long an approval given by DM lets the agent's step through. */
  approvalTtlMs: number;
  /** The budget of DM-caused model calls; none when free text is off (model_calls_per_day = 0). */
  ledger?: ModelLedger;
  prefs: NotifyPrefs;
}

/** Do what `command` asks for `asker`; resolves with the answer to send. */
export async function carryOut(
  context: BridgeContext,
  asker: Asker,
  command: DmCommand,
  settings: CommandSettings,
): Promise<string> {
  const spaces = spacesOf(context, asker.did);
  if (spaces.length === 0 && command.kind !== "help") {
    return "You are paired, but you have delegated nothing to me in any space now (revoked or expired). " +
      'DM "pair" and run the command it gives you on your peer.';
  }
  switch (command.kind) {
    case "help":
    case "unknown":
      return HELP;
    case "usage":
      return command.text;
    case "notify": {
      const kinds = command.what === undefined || command.what === "all" ? NOTIFY_KINDS : [command.what];
      const on = command.on === undefined
        ? settings.prefs.of(asker.pubkey)
        : await settings.prefs.set(asker.pubkey, kinds, command.on);
      return on.length === 0
        ? 'I notify you of nothing. "notify on all" (or runs, patches, approvals) to change that.'
        : `I DM you when there is ${on.map((k) => NOTIFY_ABOUT[k]).join("; ")}.`;
    }
    case "text":
      return settings.ledger ? await chatByDm(context, spaces, asker.did, command.text, settings.ledger) : HELP;
    case "tell":
      return await answer(() => tellAgent(context, spaces, asker.did, asker.message, command.agent, command.text));
    case "approve":
    case "deny":
      return await answer(() => answerByDm(context, spaces, asker.did, command, settings.approvalTtlMs));
    case "pair":
      return `You are paired already, as ${asker.did}.`;
    case "status":
      return spaces.map((s) => {
        const tasks = s.tasks();
        const counts = UNFINISHED.map((st) => [st, tasks.filter((t) => t.status === st).length] as const)
          .filter(([, n]) => n > 0).map(([st, n]) => `${n} ${st}`);
        return `${s.name}: ${counts.join(", ") || "nothing unfinished"} (${tasks.length} tasks in all)`;
      }).join("\n");
    case "tasks": {
      const space = pick(spaces, command.space, asker.space);
      if (typeof space === "string") return space;
      const open = space.tasks({ status: [...UNFINISHED] });
      if (open.length === 0) return `${space.name}: nothing unfinished.`;
      const more = open.length > LISTED ? `\n…and ${open.length - LISTED} more` : "";
      return `${space.name}:\n${open.slice(0, LISTED).map(short).join("\n")}${more}`;
    }
    case "new-task": {
      const space = pick(spaces, command.space, asker.space);
      if (typeof space === "string") return space;
      if (!space.holds(Commands.taskCreate, { via: asker.did })) {
        return refusal(context, space, Commands.taskCreate, "create tasks");
      }
      return await answer(async () => {
        const task = await space.act("create", {
          task: newTaskId(),
          title: command.title.slice(0, 200),
          idempotencyKey: `nostr-dm-${asker.message}`,
        }, { via: asker.did });
        return `Created task ${task.id.slice(0, 6)} in ${space.name}: ${task.title}`;
      });
    }
    case "pause":
    case "resume": {
      const hits = agentsNamed(spaces, command.agent);
      if (hits.length !== 1) {
        return hits.length === 0
          ? `No agent named ${command.agent} in your spaces.`
          : `Agents named ${command.agent} are in several of your spaces; pause it on your peer.`;
      }
      const [{ space: s, agent: m }] = hits;
      const cmd = command.kind === "pause" ? Commands.agentPause : Commands.agentResume;
      if (!s.holds(cmd, { via: asker.did })) return refusal(context, s, cmd, `${command.kind} agents`);
      return await answer(async () => {
        await s.agentOp(command.kind, { agent: m.did, reason: "asked by Nostr DM" }, { via: asker.did });
        return `Agent ${command.agent} is ${command.kind === "pause" ? "paused" : "resumed"} in ${s.name}.`;
      });
    }
  }
}

/** Run an action; a refusal or a bad input is the answer, in its own words. */
async function answer(action: () => Promise<string>): Promise<string> {
  try {
    return await action();
  } catch (e) {
    if (isWeftError(e)) return `Refused: ${e.message}`;
    throw e;
  }
}
