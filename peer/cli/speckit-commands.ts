/**
 * `weft task import|export`: Spec-Kit's tasks.md to the space's task graph
 * and back (peer/speckit/). Import is idempotent: the same file again
 * creates nothing; export writes the file as the space has it now.
 */
import { readFile, stat } from "node:fs/promises";
import process from "node:process";
import { basename, dirname, resolve } from "node:path";
import { need, str, Usage } from "./args.ts";
import { type Command, resolveSpace } from "./command.ts";

/** The feature a tasks.md belongs to: --feature, or its folder's name (Spec-Kit keeps specs/<feature>/tasks.md). */
function featureOf(file: string | undefined, given: string | undefined): string {
  if (given) return given;
  if (!file) throw new Usage("--feature is required (the folder name under specs/, e.g. 001-photo-albums)");
  return basename(dirname(resolve(file)));
}

export const SPECKIT_COMMANDS: Record<string, Command> = {
  "task import": {
    usage: "weft task import <tasks.md> [--feature name]",
    summary: "Import Spec-Kit's tasks.md as tasks (again: updates, creates nothing twice)",
    options: { feature: { type: "string" } },
    async run(a, v, io) {
      const path = need(a, 0, "tasks.md");
      const { MAX_TASKS_MD_CHARS } = await import("../speckit/tasks-md.ts");
      let text: string;
      try {
        // Bounded before it is read: a character is at most 4 bytes of UTF-8.
        if ((await stat(path)).size > 4 * MAX_TASKS_MD_CHARS) {
          throw new Error(`it is larger than a tasks.md Weft takes (${MAX_TASKS_MD_CHARS} characters)`);
        }
        text = await readFile(path, "utf8");
      } catch (e) {
        throw new Usage(`cannot read ${path}: ${(e as Error).message}`);
      }
      const { importTasksMd } = await import("../speckit/sync.ts");
      const space = await resolveSpace(io, v);
      const s = await importTasksMd(await io.client(), space, featureOf(path, str(v, "feature")), text);
      io.print(
        s,
        () =>
          `imported ${path} as task ${s.file}: ${s.created.length} created, ${s.retitled.length} retitled, ` +
          `${s.closed.length} closed, ${s.linked} dependencies added, ${s.unchanged} unchanged`,
      );
    },
  },
  "task export": {
    usage: "weft task export --feature name",
    summary: "Write a feature's tasks.md as the space has it now (to stdout)",
    options: { feature: { type: "string" } },
    async run(_a, v, io) {
      const { exportTasksMd } = await import("../speckit/sync.ts");
      const space = await resolveSpace(io, v);
      const r = await exportTasksMd(await io.client(), space, featureOf(undefined, str(v, "feature")));
      if (io.json) return io.out(JSON.stringify(r, null, 2));
      process.stdout.write(r.text);
      for (const t of r.notInFile) {
        process.stderr.write(
          `weft task export: ${t.id} (${t.title}) carries the feature's label but no line of the file\n`,
        );
      }
    },
  },
};
