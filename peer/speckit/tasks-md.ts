/**
 * Spec-Kit's tasks.md, line by line: task lines (`- [ ] T001 [P] [US1]
 * description (depends on T002)`) and everything else, kept verbatim. A
 * task line re-renders to the exact bytes it was read from as long as its
 * task's title and done state are unchanged, so a file read here and
 * written back is the same file (github/spec-kit templates/tasks-template.md,
 * and what its /tasks command writes).
 */
import { WeftError } from "#protocol";

/** The most a tasks.md may hold, in characters and in task lines (each line is a task). */
export const MAX_TASKS_MD_CHARS = 512 * 1024;
export const MAX_TASK_LINES = 2000;
/** Weft task titles hold 200 characters; a longer description goes whole into the task's body. */
export const MAX_TITLE_CHARS = 200;

export interface TaskLine {
  kind: "task";
  /** The line as read, without its `\n`. */
  raw: string;
  /** `T001`, or the template's `TXXX`. */
  id: string;
  /** `T001`, or `TXXX#2` for a second line with the same id: what the line is known by on re-import. */
  key: string;
  done: boolean;
  parallel: boolean;
  /** `US1`, when the line names a user story. */
  story?: string;
  description: string;
  /** Ids from `(depends on T012, T013)` in the description, or a `depends on …` line under it. */
  dependsOn: string[];
  /** `1` from the last `## Phase 1: …` heading above it. */
  phase?: string;
}

export interface TextLine {
  kind: "text";
  raw: string;
}

export type Line = TaskLine | TextLine;

// indent, bullet, checkbox, id, markers, description, trailing \r (kept as read)
const TASK = /^(\s*)([-*]) \[([ xX])\] (T[0-9A-Z]{1,16})((?: \[P\])?)((?: \[US\d{1,4}\])?) (.+?)(\r?)$/;
const PHASE = /^#{2,3}\s+Phase\s+([0-9A-Za-z.]{1,16})\b/;
const DEPENDS = /\bdepends on ((?:T[0-9A-Z]{1,16}(?:,\s*|\s+and\s+)?)+)/i;
const IDS = /T[0-9A-Z]{1,16}/g;

function dependsOnIn(text: string): string[] {
  const m = DEPENDS.exec(text);
  return m ? [...m[1].matchAll(IDS)].map((x) => x[0]) : [];
}

/** Read a tasks.md; throws input/invalid when it is too big to keep. */
export function parseTasksMd(text: string): Line[] {
  if (text.length > MAX_TASKS_MD_CHARS) {
    throw new WeftError(
      "SpecKit",
      "input/too-large",
      `this tasks.md has ${text.length} characters; Weft takes one of at most ${MAX_TASKS_MD_CHARS}: split it by phase`,
    );
  }
  const taskLines = text.split("\n").filter((l) => TASK.test(l)).length;
  if (taskLines > MAX_TASK_LINES) {
    throw new WeftError(
      "SpecKit",
      "input/too-large",
      `this tasks.md has ${taskLines} task lines; Weft takes at most ${MAX_TASK_LINES} from one file: split it by phase`,
    );
  }
  const seen = new Map<string, number>();
  let phase: string | undefined;
  let last: TaskLine | undefined;
  return text.split("\n").map((raw): Line => {
    const heading = PHASE.exec(raw);
    if (heading) phase = heading[1];
    const m = TASK.exec(raw);
    if (!m) {
      // A `depends on T001` line indented under a task adds to that task's dependencies.
      if (last && /^\s+\S/.test(raw)) last.dependsOn.push(...dependsOnIn(raw));
      else if (raw.trim() !== "") last = undefined;
      return { kind: "text", raw };
    }
    const [, , , mark, id, p, us, description] = m;
    const n = (seen.get(id) ?? 0) + 1;
    seen.set(id, n);
    last = {
      kind: "task",
      raw,
      id,
      key: n === 1 ? id : `${id}#${n}`,
      done: mark !== " ",
      parallel: p !== "",
      ...(us ? { story: us.slice(2, -1) } : {}),
      description,
      dependsOn: dependsOnIn(description),
      ...(phase ? { phase } : {}),
    };
    return last;
  });
}

/** The line for `line`'s task as it is now: the bytes read when nothing changed, else the line with what did. */
export function renderTaskLine(line: TaskLine, now: { description: string; done: boolean }): string {
  if (now.description === line.description && now.done === line.done) return line.raw;
  const m = TASK.exec(line.raw)!;
  const [, indent, bullet, mark, id, p, us, , cr] = m;
  const doneMark = now.done ? (mark === " " ? "X" : mark) : " ";
  return `${indent}${bullet} [${doneMark}] ${id}${p}${us} ${now.description}${cr}`;
}

/** The file again, each task line rendered from what `now` says of its key (lines it does not know stay as read). */
export function renderTasksMd(
  lines: readonly Line[],
  now: (line: TaskLine) => { description: string; done: boolean } | undefined,
): string {
  return lines.map((l) => {
    if (l.kind === "text") return l.raw;
    const current = now(l);
    return current ? renderTaskLine(l, current) : l.raw;
  }).join("\n");
}

/** A task's title for a description: itself, or cut to fit with an ellipsis (the whole goes into the body). */
export function titleFor(description: string): string {
  return description.length <= MAX_TITLE_CHARS ? description : `${description.slice(0, MAX_TITLE_CHARS - 1)}…`;
}

/** The description a task holds: its title, unless that is the cut of a longer description in its body. */
export function descriptionOf(task: { title: string; body: string }): string {
  return task.body.length > MAX_TITLE_CHARS && titleFor(task.body) === task.title ? task.body : task.title;
}
