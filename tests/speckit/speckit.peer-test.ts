/**
 * Spec-Kit's tasks.md ↔ the task graph, on Spec-Kit's own template
 * (tests/fixtures/speckit/, fetched from github/spec-kit): read and written
 * back unchanged; imported with `weft task import` and exported with
 * `weft task export` byte for byte; imported again creating nothing; done
 * states, dependencies and edits carried both ways.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { promisify } from "node:util";
import { parseTasksMd, renderTasksMd, type TaskLine } from "../../peer/speckit/tasks-md.ts";
import { specKitTaskId } from "../../peer/speckit/sync.ts";
import { type TestDaemon, testDaemon } from "../helpers/daemon.ts";
import type { TaskView } from "../../protocol/tasks/query.ts";

const run = promisify(execFile);
const CLI = new URL("../../peer/cli/weft.js", import.meta.url).pathname;
const TEMPLATE = new URL("../fixtures/speckit/tasks-template.md", import.meta.url);

describe("Spec-Kit tasks.md", () => {
  let template: string;
  before(async () => (template = await readFile(TEMPLATE, "utf8")));

  it("reads every task line of the template, and writes the file back unchanged", () => {
    const lines = parseTasksMd(template);
    const tasks = lines.filter((l): l is TaskLine => l.kind === "task");
    assert.equal(tasks.length, template.split("\n").filter((l) => /^- \[ \] T/.test(l)).length);
    assert.equal(tasks.length, 34);
    const t014 = tasks.find((t) => t.key === "T014")!;
    assert.deepEqual(t014.dependsOn, ["T012", "T013"]);
    assert.equal(t014.story, "US1");
    assert.equal(t014.phase, "3");
    assert.equal(tasks.find((t) => t.key === "T003")!.parallel, true);
    // The Polish phase's six `TXXX` lines are six tasks, each with a key of its own.
    assert.deepEqual(tasks.filter((t) => t.id === "TXXX").map((t) => t.key), [
      "TXXX",
      "TXXX#2",
      "TXXX#3",
      "TXXX#4",
      "TXXX#5",
      "TXXX#6",
    ]);
    assert.equal(renderTasksMd(lines, (l) => ({ description: l.description, done: l.done })), template);
    const ticked = renderTasksMd(lines, (l) => ({ description: l.description, done: l.key === "T002" }));
    assert.equal(
      ticked,
      template.replace("- [ ] T002 Initialize", "- [X] T002 Initialize"),
      "only the ticked line changes",
    );
  });

  it("reads `depends on` lines under a task, lower-case [x] and CRLF line ends, and writes them back as read", () => {
    const text = [
      "# Tasks: CRLF",
      "",
      "## Phase 1: Setup",
      "",
      "- [x] T001 Create the project",
      "- [ ] T002 [P] Add the linter",
      "  - depends on T001",
      "* [ ] T003 [US2] Wire it up (depends on T001 and T002)",
      "",
    ].join("\r\n");
    const lines = parseTasksMd(text);
    const tasks = lines.filter((l): l is TaskLine => l.kind === "task");
    assert.deepEqual(tasks.map((t) => [t.key, t.done, t.dependsOn, t.phase]), [
      ["T001", true, [], "1"],
      ["T002", false, ["T001"], "1"],
      ["T003", false, ["T001", "T002"], "1"],
    ]);
    assert.equal(tasks[0].description, "Create the project", "the \\r is the line's end, not its text");
    assert.equal(renderTasksMd(lines, (l) => ({ description: l.description, done: l.done })), text);
    const reopened = renderTasksMd(lines, (l) => ({ description: l.description, done: l.key === "T003" }));
    assert.equal(
      reopened,
      text.replace("- [x] T001", "- [ ] T001").replace("* [ ] T003 [US2] Wire", "* [X] T003 [US2] Wire"),
    );
  });

  describe("through a peer: weft task import / export", () => {
    let d: TestDaemon;
    let dir: string;
    let file: string;
    let space: string;
    const weft = async (...args: string[]) =>
      (await run(process.execPath, [CLI, ...args], { env: { ...process.env, WEFT_HOME: d.home } })).stdout;
    const task = (key: string) =>
      d.client.get<TaskView>(
        `/v1/spaces/${encodeURIComponent(space)}/tasks/${specKitTaskId(space, "001-photo-albums", key)}`,
      );

    before(async () => {
      d = await testDaemon();
      dir = await mkdtemp(join(tmpdir(), "weft-speckit-"));
      await mkdir(join(dir, "specs", "001-photo-albums"), { recursive: true });
      file = join(dir, "specs", "001-photo-albums", "tasks.md");
      await writeFile(file, template);
      space = (await d.client.get<{ spaces: Array<{ id: string }> }>("/v1/spaces")).spaces[0].id;
    });
    after(async () => {
      await d.stop();
      await rm(dir, { recursive: true, force: true });
    });

    it("imports the template as tasks and exports it byte for byte", async () => {
      const imported = JSON.parse(await weft("task", "import", file, "--json"));
      assert.equal(imported.created.length, 35, "34 task lines and the file itself");
      assert.equal(imported.linked, 2, "T014 depends on T012 and T013");
      const t014 = await task("T014");
      assert.deepEqual(
        [...t014.deps].sort(),
        [specKitTaskId(space, "001-photo-albums", "T012"), specKitTaskId(space, "001-photo-albums", "T013")].sort(),
      );
      assert.ok(t014.labels.includes("story:US1") && t014.labels.includes("phase:3"));
      assert.equal(await weft("task", "export", "--feature", "001-photo-albums"), template);
    });

    it("imports the same file again and creates nothing", async () => {
      const before = (await d.client.get<{ tasks: TaskView[] }>(`/v1/spaces/${encodeURIComponent(space)}/tasks`))
        .tasks.length;
      const again = JSON.parse(await weft("task", "import", file, "--json"));
      assert.deepEqual([again.created, again.retitled, again.closed, again.linked], [[], [], [], 0]);
      const now = (await d.client.get<{ tasks: TaskView[] }>(`/v1/spaces/${encodeURIComponent(space)}/tasks`))
        .tasks.length;
      assert.equal(now, before);
    });

    it("carries done states and edits both ways", async () => {
      // Done in Weft → [X] in the export, on that line only.
      await d.client.op(space, "close", { task: (await task("T001")).id, outcome: "done" });
      const exported = await weft("task", "export", "--feature", "001-photo-albums");
      assert.equal(exported, template.replace("- [ ] T001 Create", "- [X] T001 Create"));

      // Ticked and reworded in the file → closed and retitled in Weft; T001 stays done.
      const edited = template
        .replace("- [ ] T002 Initialize [language] project", "- [x] T002 Initialize [language] project")
        .replace("T016 [US1] Add validation and error handling", "T016 [US1] Add validation, error handling");
      await writeFile(file, edited);
      const r = JSON.parse(await weft("task", "import", file, "--json"));
      assert.deepEqual(r.created, []);
      assert.deepEqual(r.closed, [(await task("T002")).id]);
      assert.deepEqual(r.retitled, [(await task("T016")).id]);
      assert.equal((await task("T016")).title, "Add validation, error handling");
      assert.equal(
        await weft("task", "export", "--feature", "001-photo-albums"),
        edited.replace("- [ ] T001 Create", "- [X] T001 Create"),
      );
    });

    it("imports and exports a tasks.md far larger than one request's headers, byte for byte", async () => {
      const big = join(dir, "specs", "003-big", "tasks.md");
      await mkdir(join(dir, "specs", "003-big"), { recursive: true });
      const lines = ["# Tasks: big", "", "## Phase 1: Setup", ""];
      for (let i = 1; i <= 120; i++) {
        const id = `T${String(i).padStart(3, "0")}`;
        lines.push(`- [ ] ${id} [P] Implement part ${i} of the feature in src/part_${i}.py ${"with care ".repeat(15)}`);
      }
      const text = lines.join("\n") + "\n";
      assert.ok(text.length > 24_000);
      await writeFile(big, text);
      const r = JSON.parse(await weft("task", "import", big, "--json"));
      assert.equal(r.created.length, 121);
      assert.equal(await weft("task", "export", "--feature", "003-big"), text);
    });

    it("refuses a feature name that cannot be a label, and a dependency on a task the file does not list", async () => {
      await assert.rejects(weft("task", "import", file, "--feature", "has space"), /without spaces/);
      const dangling = join(dir, "specs", "001-photo-albums", "dangling.md");
      await writeFile(dangling, "## Phase 1: Setup\n\n- [ ] T001 Do it (depends on T999)\n");
      await assert.rejects(weft("task", "import", dangling, "--feature", "002-other"), /T999/);
      const other = await d.client.get<{ tasks: TaskView[] }>(
        `/v1/spaces/${encodeURIComponent(space)}/tasks?label=${encodeURIComponent("speckit:002-other")}`,
      );
      assert.deepEqual(other.tasks, [], "a refused import writes nothing");
    });
  });
});
