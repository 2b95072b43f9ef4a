/**
 * What a DM asks for, read deterministically (no model): a plain-words form
 * and a strict slash form of each command. Anything else is free text (for
 * the model), except an unknown slash form, which gets the help text.
 * Commands are one line, bounded before they are read.
 */
import type { NotifyKind } from "./notify-prefs.ts";
export type DmCommand =
  | { kind: "help" }
  | { kind: "pair" }
  | { kind: "status" }
  | { kind: "tasks"; space?: string }
  | { kind: "new-task"; title: string; space?: string }
  | { kind: "pause" | "resume"; agent: string }
  /** Free text for one agent ("@ada …", "/tell ada …"): to the task it works on, or a new task for it. */
  | { kind: "tell"; agent: string; text: string }
  /** Approve, or deny (for a patch: request changes), an open patch or an agent's pending request, by id prefix. */
  | { kind: "approve" | "deny"; prefix: string; what?: "patch" | "request"; reason?: string }
  /** A strict form misspelled, or a verb without what it needs: answered with how to say it, never a model's. */
  | { kind: "usage"; text: string }
  /** Turn notifications of a kind (or all) on or off; with neither, say which are on. */
  | { kind: "notify"; on?: boolean; what?: NotifyKind | "all" }
  /** Not a command: free text, for the model (dm-chat.ts). */
  | { kind: "text"; text: string }
  /** A slash form that is no command: the help, never the model. */
  | { kind: "unknown" };

/** The longest command read; a longer message is `unknown`. */
export const MAX_COMMAND = 1_000;

const SPACE = "([A-Za-z0-9][\\w.-]{0,63})";
const RULES: Array<[RegExp, (m: RegExpMatchArray) => DmCommand]> = [
  [/^(?:\/?help|\?)$/i, () => ({ kind: "help" })],
  [/^\/?pair$/i, () => ({ kind: "pair" })],
  [/^\/?status\??$/i, () => ({ kind: "status" })],
  [new RegExp(`^\\/?tasks(?:\\s+in\\s+${SPACE})?\\??$`, "i"), (m) => ({ kind: "tasks", space: m[1] })],
  [
    new RegExp(`^(?:new task|\\/task)(?:\\s+in\\s+${SPACE})?\\s*:?\\s+(\\S.*)$`, "i"),
    (m) => ({ kind: "new-task", space: m[1], title: m[2].trim() }),
  ],
  [/^(?:pause agent|\/pause)\s+([\w.-]{1,64})$/i, (m) => ({ kind: "pause", agent: m[1] })],
  [/^(?:@|\/tell\s+)([\w.-]{1,64})[:,]?\s+(\S.*)$/i, (m) => ({ kind: "tell", agent: m[1], text: m[2].trim() })],
  [/^(?:resume agent|\/resume)\s+([\w.-]{1,64})$/i, (m) => ({ kind: "resume", agent: m[1] })],
  [
    /^\/?(approve|deny)(?:\s+(patch|request))?\s+([0-9a-z]{4,40})(?:\s*:?\s+(\S.*))?$/i,
    (m) => ({
      kind: m[1].toLowerCase() as "approve" | "deny",
      prefix: m[3].toLowerCase(),
      what: m[2]?.toLowerCase() as "patch" | "request" | undefined,
      reason: m[4]?.trim(),
    }),
  ],
  [
    /^\/?notify(?:\s+(on|off)\s+(runs|patches|approvals|all))?$/i,
    (m) => ({
      kind: "notify",
      on: m[1] === undefined ? undefined : m[1].toLowerCase() === "on",
      what: m[2]?.toLowerCase() as NotifyKind | "all" | undefined,
    }),
  ],
  [
    /^\/?notify\b/i,
    () => ({ kind: "usage", text: "Say notify on|off runs|patches|approvals|all, or notify to see what is on." }),
  ],
  [
    /^\/?(approve|deny)\b/i,
    (m) => ({
      kind: "usage",
      text: `Say ${m[1].toLowerCase()} [patch|request] <id>, with at least 4 characters of the id, e.g. ` +
        `"${m[1].toLowerCase()} patch 3f2a"${m[1].toLowerCase() === "deny" ? ' or "deny 3f2a: not this way"' : ""}.`,
    }),
  ],
];

export function parseCommand(text: string): DmCommand {
  const strict = text.trimStart().startsWith("/");
  if (text.length > MAX_COMMAND) return strict ? { kind: "unknown" } : { kind: "text", text: text.trim() };
  const line = text.trim().replace(/\s+/g, " ");
  for (const [re, make] of RULES) {
    const m = line.match(re);
    if (m) {
      const c = make(m);
      return c.kind === "new-task" || c.kind === "tasks" || c.kind === "approve" || c.kind === "deny" ||
          c.kind === "notify"
        ? dropUndefined(c)
        : c;
    }
  }
  return strict || line === "" ? { kind: "unknown" } : { kind: "text", text: text.trim() };
}

function dropUndefined<T extends object>(c: T): T {
  return Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined)) as T;
}

export const HELP = [
  "I understand:",
  "  status?                        what your spaces are doing",
  "  tasks [in <space>]             the unfinished tasks",
  "  new task [in <space>]: <title> file a task (or /task <title>)",
  "  pause agent <name>             stop an agent (or /pause <name>)",
  "  resume agent <name>            let it act again (or /resume <name>)",
  "  @<agent> <words>               to the agent: on the task it works on, or a new task for it",
  "  approve [patch|request] <id>   approve an open patch or an agent's request (or /approve <id>)",
  "  deny [patch|request] <id>: why request changes to a patch, or deny a request (or /deny <id>)",
  "  notify on|off <kind>           DM me when: runs fail, patches wait for review, agents wait for",
  "                                 approval (runs, patches, approvals or all); notify: what is on",
  "  help                           this",
  "Anything else goes to the model, which answers but cannot act.",
].join("\n");
