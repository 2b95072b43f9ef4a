/**
 * Spec-Kit's tasks.md to a space's task graph and back, through the API as
 * the caller (every change a signed operation of its own). The file itself
 * — the prose, headings and phases a task graph has no place for — is kept
 * verbatim as an artifact, named by CID in a task of its own; each task
 * line becomes a task whose id is derived from the space, the feature and
 * the line's key, so importing the same file again — by anyone — finds the
 * same tasks and creates nothing. Export renders the kept file with each
 * task line's current title and done state.
 */
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { base32 } from "multiformats/bases/base32";
import { WeftError } from "#protocol";
import { LABEL, type TaskView, TERMINAL } from "#protocol/tasks";
import type { ApiClient } from "../api/client.ts";
import { ArtifactClient } from "../artifacts/api-client.ts";
import { descriptionOf, type Line, parseTasksMd, renderTasksMd, type TaskLine, titleFor } from "./tasks-md.ts";

/** The label on the file's task, beside the feature's own. */
export const FILE_LABEL = "speckit:tasks.md";

export interface ImportSummary {
  file: string;
  created: string[];
  retitled: string[];
  closed: string[];
  linked: number;
  unchanged: number;
}

/** `speckit:<feature>`, the label every task of the feature carries; refused when it cannot be a label. */
export function featureLabel(feature: string): string {
  const label = `speckit:${feature}`;
  if (!LABEL.test(label)) {
    throw new WeftError(
      "SpecKit",
      "input/invalid",
      `feature ${JSON.stringify(feature)} must be 1-56 characters without spaces or commas (e.g. 001-photo-albums)`,
    );
  }
  return label;
}

/** The task id of a line `key` (or of the file itself, key "") of a feature in a space. */
export function specKitTaskId(space: string, feature: string, key: string): string {
  const digest = createHash("sha256").update(`weft-speckit\n${space}\n${feature}\n${key}`).digest();
  return base32.baseEncode(digest).slice(0, 26);
}

const enc = encodeURIComponent;

async function featureTasks(client: ApiClient, space: string, feature: string): Promise<Map<string, TaskView>> {
  const { tasks } = await client.get<{ tasks: TaskView[] }>(
    `/v1/spaces/${enc(space)}/tasks?label=${enc(featureLabel(feature))}`,
  );
  return new Map(tasks.map((t) => [t.id, t]));
}

function taskLines(lines: readonly Line[]): TaskLine[] {
  return lines.filter((l): l is TaskLine => l.kind === "task");
}

const QUIET = { hashing() {}, sending() {} };
const FILE_CID = /^tasks\.md: (b[a-z2-7]{20,100})$/m;

/** Keep `text` as an artifact of the space (the store's own upload: hashed, streamed); resolves to its CID. */
async function keepFile(client: ApiClient, space: string, text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "weft-speckit-"));
  try {
    await writeFile(join(dir, "tasks.md"), text);
    return (await new ArtifactClient(client).upload(space, join(dir, "tasks.md"), QUIET)).cid;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The kept file named in the file task's body, every byte checked against its CID. */
async function keptFile(client: ApiClient, space: string, body: string): Promise<string> {
  const cid = FILE_CID.exec(body)?.[1];
  if (!cid) {
    throw new WeftError("SpecKit", "input/invalid", "this task names no kept tasks.md (no `tasks.md: <cid>` line)");
  }
  const dir = await mkdtemp(join(tmpdir(), "weft-speckit-"));
  try {
    await new ArtifactClient(client).download(space, cid, join(dir, "tasks.md"));
    return await readFile(join(dir, "tasks.md"), "utf8");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The file task's body: what it is, how to get it back, and the kept file's CID. */
function fileBody(feature: string, cid: string): string {
  return `Spec-Kit tasks.md of feature ${feature}, imported with \`weft task import\`; ` +
    `\`weft task export --feature ${feature}\` writes it as the space has it now.\n\ntasks.md: ${cid}\n`;
}

function titleOfFile(lines: readonly Line[], feature: string): string {
  const h1 = lines.find((l) => /^# \S/.test(l.raw));
  return titleFor(h1 ? h1.raw.slice(2).trim() : `Tasks: ${feature}`);
}

/**
 * Bring the feature's tasks in line with `text`: create what is missing,
 * close what the file marks done, retitle what the file changed since it
 * was last imported (and Weft did not), add the dependencies it names.
 * Nothing Weft changed since is undone: a task done in Weft stays done.
 */
export async function importTasksMd(
  client: ApiClient,
  space: string,
  feature: string,
  text: string,
): Promise<ImportSummary> {
  const lines = parseTasksMd(text);
  const label = featureLabel(feature);
  const idOf = (key: string) => specKitTaskId(space, feature, key);
  const fileId = idOf("");
  const existing = await featureTasks(client, space, feature);
  const file = existing.get(fileId);
  const before = new Map(
    file ? taskLines(parseTasksMd(await keptFile(client, space, file.body))).map((l) => [l.key, l]) : [],
  );
  const summary: ImportSummary = { file: fileId, created: [], retitled: [], closed: [], linked: 0, unchanged: 0 };
  const byId = new Map<string, string>(); // T012 → task id of its first line
  for (const line of taskLines(lines)) if (!byId.has(line.id)) byId.set(line.id, idOf(line.key));
  // Every dependency must name a line of this file, checked before anything is written.
  for (const line of taskLines(lines)) {
    const missing = line.dependsOn.find((dep) => !byId.has(dep));
    if (missing) {
      throw new WeftError(
        "SpecKit",
        "input/task",
        `${line.id} depends on ${missing}, which this tasks.md does not list`,
      );
    }
  }

  for (const line of taskLines(lines)) {
    const id = idOf(line.key);
    let task = existing.get(id);
    const long = titleFor(line.description) !== line.description;
    if (!task) {
      task = await client.op<"create", TaskView>(space, "create", {
        task: id,
        title: titleFor(line.description),
        ...(long ? { body: line.description } : {}),
        labels: [
          label,
          ...(line.parallel ? ["parallel"] : []),
          ...(line.story ? [`story:${line.story}`] : []),
          ...(line.phase ? [`phase:${line.phase}`] : []),
        ],
      });
      summary.created.push(id);
    } else {
      const was = before.get(line.key);
      if (was && was.description !== line.description && descriptionOf(task) === was.description) {
        task = await client.op<"edit", TaskView>(space, "edit", {
          task: id,
          title: titleFor(line.description),
          ...(long ? { body: line.description } : {}),
        });
        summary.retitled.push(id);
      } else summary.unchanged++;
    }
    if (line.done && !TERMINAL.has(task.status)) {
      await client.op(space, "close", { task: id, outcome: "done" });
      summary.closed.push(id);
    }
    for (const dep of line.dependsOn) {
      const target = byId.get(dep)!;
      if (target === id || task.deps.includes(target)) continue;
      await client.op(space, "dependency", { task: id, add: target });
      summary.linked++;
    }
  }
  // The file last: an import cut short is finished by running it again.
  const body = fileBody(feature, await keepFile(client, space, text));
  if (!file) {
    await client.op(space, "create", {
      task: fileId,
      title: titleOfFile(lines, feature),
      body,
      labels: [label, FILE_LABEL],
    });
    summary.created.push(fileId);
  } else if (file.body !== body) {
    await client.op(space, "edit", { task: fileId, body });
  }
  return summary;
}

/**
 * The feature's tasks.md as the space has it now. `notInFile` lists tasks
 * carrying the feature's label that no line of the kept file names (made
 * in Weft after the import): they are not written, so say so.
 */
export async function exportTasksMd(
  client: ApiClient,
  space: string,
  feature: string,
): Promise<{ text: string; notInFile: TaskView[] }> {
  const tasks = await featureTasks(client, space, feature);
  const file = tasks.get(specKitTaskId(space, feature, ""));
  if (!file) {
    throw new WeftError(
      "SpecKit",
      "not-found",
      `no tasks.md of feature ${feature} in space ${space}; import one first: weft task import <tasks.md> --feature ${feature}`,
    );
  }
  const lines = parseTasksMd(await keptFile(client, space, file.body));
  const named = new Set([file.id]);
  const text = renderTasksMd(lines, (line) => {
    const task = tasks.get(specKitTaskId(space, feature, line.key));
    if (!task) return undefined;
    named.add(task.id);
    return { description: descriptionOf(task), done: task.status === "done" };
  });
  return { text, notInFile: [...tasks.values()].filter((t) => !named.has(t.id)) };
}
