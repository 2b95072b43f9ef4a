/**
 * What a DM asks for, read deterministically (no model): a plain-words form
 * and a strict slash form of each command. Anything else is `unknown` and
 * gets the help text. One line, bounded before it is read.
 */
export type DmCommand =
  | { kind: "help" }
  | { kind: "pair" }
  | { kind: "status" }
  | { kind: "tasks"; space?: string }
  | { kind: "new-task"; title: string; space?: string }
  | { kind: "pause" | "resume"; agent: string }
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
  [/^(?:resume agent|\/resume)\s+([\w.-]{1,64})$/i, (m) => ({ kind: "resume", agent: m[1] })],
];

export function parseCommand(text: string): DmCommand {
  if (text.length > MAX_COMMAND) return { kind: "unknown" };
  const line = text.trim().replace(/\s+/g, " ");
  for (const [re, make] of RULES) {
    const m = line.match(re);
    if (m) {
      const c = make(m);
      return c.kind === "new-task" || c.kind === "tasks" ? dropUndefined(c) : c;
    }
  }
  return { kind: "unknown" };
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
  "  help                           this",
].join("\n");
