/**
 * The saved view (pwa/src/node/snapshot.ts, ui/saved-view.tsx) in Debian's
 * Chromium against a real peer daemon: after a visit, the next one renders
 * the task list from the view this browser verified and signed, before the
 * node has opened, marked as being checked; a saved view changed in
 * IndexedDB is refused (not rendered, and the user told); and a task, or a
 * change to one, that the saved view showed and the verified node does not
 * have disappears, with an alert that names it.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { type TestDaemon, testDaemon } from "../helpers/daemon.ts";
import { eventually } from "../helpers/nodes.ts";
import { appReady, did, joinByNode, openProfile, type Profile } from "./chromium.ts";
import { editSaved, savedRecord, savedView } from "./saved-record.ts";
import { ensurePwaBuilt } from "./pwa-build.ts";

const TASKS = 30;

/** What the page showed first, recorded from the first script on: the saved view's rows, and whether the node was open. */
const RECORD_FIRST_VIEW = () => {
  const seen = { savedRows: [] as string[], nodeOpenThen: true, busy: "", text: "" };
  (globalThis as unknown as { firstView: typeof seen }).firstView = seen;
  new MutationObserver((_, observer) => {
    const main = document.querySelector("main.saved-view");
    if (!main) return;
    const rows = [...main.querySelectorAll("tr[data-task]")];
    if (rows.length === 0) return;
    seen.savedRows = rows.map((r) => r.textContent ?? "");
    seen.nodeOpenThen = "weft" in globalThis;
    seen.busy = main.getAttribute("aria-busy") ?? "";
    seen.text = main.textContent ?? "";
    observer.disconnect();
  }).observe(document, { childList: true, subtree: true });
};

type FirstView = { savedRows: string[]; nodeOpenThen: boolean; busy: string; text: string };
const firstView = (page: Page) => page.evaluate(() => (globalThis as unknown as { firstView: FirstView }).firstView);

describe("the saved view", { timeout: 240_000 }, () => {
  let d: TestDaemon;
  let p: Profile;
  let spaceId = "";
  let device = "";

  before(async () => {
    ensurePwaBuilt();
    d = await testDaemon();
    const space = await d.daemon.node.createSpace("saved view");
    spaceId = space.id;
    for (let i = 0; i < TASKS; i++) await space.createTask({ title: `saved task ${i}`, labels: ["saved"] });
    p = await openProfile();
    await p.context.addInitScript(RECORD_FIRST_VIEW);
    await p.page.goto(d.daemon.url);
    await appReady(p.page);
    const invite = await d.daemon.node.invite(space.id);
    await joinByNode(p.page, invite);
    device = await did(p.page);
    // The app saves the view a moment after the space changes: wait for one with every task.
    await eventually(async () => (await savedView(p.page))?.total === TASKS, 60_000, "the saved view of every task");
  });

  after(async () => {
    await p?.close();
    await d?.stop();
  });

  it("renders the next visit from the saved view, marked as being checked, before the node is open", async () => {
    await p.page.goto(d.daemon.url);
    await appReady(p.page);
    const seen = await firstView(p.page);
    assert.equal(await p.page.evaluate(() => document.documentElement.dataset.firstRender), "saved");
    assert.equal(seen.nodeOpenThen, false, "the saved view came before the node opened");
    assert.equal(seen.savedRows.length, TASKS);
    assert.ok(seen.savedRows.some((r) => r.includes("saved task 7")));
    assert.equal(seen.busy, "true");
    assert.match(seen.text, /Checking \d+ signed operations/);
    const [first, opened] = await p.page.evaluate(() => [
      performance.getEntriesByName("weft-first-render")[0].startTime,
      performance.getEntriesByName("weft-caught-up")[0].startTime,
    ]);
    assert.ok(first < opened, `first render at ${first} ms, before the verified app at ${opened} ms`);
    // The verified app replaced it: the task list, with its form to file a task.
    await p.page.waitForSelector("#new-task-title");
    assert.equal(await p.page.locator("main.saved-view").count(), 0);
  });

  it("refuses a saved view changed in IndexedDB, and says so", async () => {
    await editSaved(p.page, d.daemon.url, device, (json) => json.replace("saved task 3", "FORGED task"), false);
    await p.page.goto(`${d.daemon.url}/#/s/${encodeURIComponent(spaceId)}/tasks`);
    await appReady(p.page);
    const seen = await firstView(p.page);
    assert.deepEqual(seen.savedRows, [], "nothing was rendered from the changed view");
    assert.equal(await p.page.evaluate(() => document.documentElement.dataset.firstRender), "app");
    await p.page.locator("[role=alert]", { hasText: "its signature is not this device's" }).waitFor();
    assert.equal(await p.page.locator("text=FORGED task").count(), 0);
    await p.page.locator("tr", { hasText: "saved task 3" }).first().waitFor();
  });

  it("removes what an older saved view showed that does not verify, and names it", async () => {
    // A view this device signed before the space moved on (a task filed since), showing a task the verified
    // space does not have (as when an operation it showed is voided later).
    await eventually(async () => (await savedView(p.page)) !== undefined, 30_000, "the view saved again");
    const older = (await savedRecord(p.page))?.json ?? "";
    await d.daemon.node.space(spaceId)?.createTask({ title: "filed since", labels: ["saved"] });
    await eventually(async () => (await savedView(p.page))?.total === TASKS + 1, 30_000, "the view saved again");
    await editSaved(
      p.page,
      d.daemon.url,
      device,
      (json) => {
        const view = JSON.parse(json);
        // Rows are kept as [id, title, status, labels, assignee, updatedAt].
        view.rows.unshift(["zzzzzzzzzzzzzzzz", "Vanishing task", ...view.rows[0].slice(2)]);
        view.total += 1;
        view.ops += 1;
        // And a change to a task the space has, later than anything verified for it.
        const last = view.rows[view.rows.length - 1];
        last[1] = "Retitled task";
        last[5] += 60_000;
        return JSON.stringify(view);
      },
      true,
      older,
    );
    await p.page.goto(d.daemon.url);
    await appReady(p.page);
    const seen = await firstView(p.page);
    assert.ok(seen.savedRows.some((r) => r.includes("Vanishing task")), "shown first, as being checked");
    assert.ok(seen.savedRows.some((r) => r.includes("Retitled task")));
    await p.page.locator("[role=alert]", {
      hasText: "2 task(s) shown from your last visit did not verify and were removed or changed back: “Vanishing task”",
    }).waitFor();
    await p.page.locator("[role=alert]", { hasText: "“Retitled task”" }).waitFor();
    assert.equal(await p.page.locator("tr", { hasText: "Vanishing task" }).count(), 0);
    assert.equal(await p.page.locator("tr", { hasText: "Retitled task" }).count(), 0);
  });
});
