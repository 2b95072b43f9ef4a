/**
 * Acting on the saved view before the node has caught up (pwa/src/main.tsx,
 * node/intents.ts, node/snapshot.ts), in Debian's Chromium against a real
 * peer daemon. The catch-up is held, not raced: a second page of the same
 * origin keeps a read-write transaction open on automerge's IndexedDB
 * store, so the node cannot read its documents until the test lets go.
 * Meanwhile the saved view is interactive: a task created, one claimed and
 * one commented on wait, and once the node has caught up each is made
 * through the node against the verified state (and reaches the daemon); a
 * claim of a task the saved view showed open but the verified state shows
 * held is refused, with the node's reason; a task filed on the daemon
 * during the catch-up arrives; and a saved view signed by this device that
 * claims an operation the space does not have is discarded with an alert,
 * with the record of verified signatures, or refused before it renders when
 * its own counts disagree.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import type { Space } from "#protocol/space";
import { type TestDaemon, testDaemon } from "../helpers/daemon.ts";
import { eventually } from "../helpers/nodes.ts";
import { appReady, did, joinByNode, openProfile, type Profile } from "./chromium.ts";
import { ensurePwaBuilt } from "./pwa-build.ts";
import { editSaved, savedRecord, savedView } from "./saved-record.ts";

const TASKS = 40;

/**
 * Hold automerge's store in a second page until the returned function is
 * called. The page is one of the peer's API routes, the one kind of page of
 * the origin where the service worker does not start the app (which would
 * take this browser's node lock).
 */
async function holdDocuments(p: Profile, url: string): Promise<() => Promise<void>> {
  const holder = await p.context.newPage();
  await holder.goto(`${url}/healthz`);
  await holder.evaluate(() =>
    new Promise<void>((resolve, reject) => {
      const r = indexedDB.open("weft-documents");
      r.onerror = () => reject(r.error);
      r.onsuccess = () => {
        const store = r.result.transaction("documents", "readwrite").objectStore("documents");
        const state = { release: false };
        Object.assign(globalThis, { hold: state });
        // A transaction lives while it has requests: keep asking until told to let go.
        const spin = () => {
          store.count().onsuccess = () => {
            if (!state.release) spin();
          };
        };
        spin();
        resolve();
      };
    })
  );
  return async () => {
    if (holder.isClosed()) return;
    await holder.evaluate(() => (globalThis as unknown as { hold: { release: boolean } }).hold.release = true);
    await holder.close();
  };
}

/** Open the app anew on the space's task list (a hash change alone would not reload it). */
async function visit(page: Page, url: string, space: string): Promise<void> {
  await page.goto("about:blank");
  await page.goto(`${url}/#/s/${encodeURIComponent(space)}/tasks`);
}

const nodeOpen = (page: Page) => page.evaluate(() => "weft" in globalThis);

/** The browser node's view of task `id` (status, lease holder, comments), once caught up. */
const browserTask = (page: Page, space: string, id: string) =>
  page.evaluate(({ space, id }) => {
    type T = { status: string; lease?: { holder: string }; comments: { body: string }[] };
    type W = { node: { space(id: string): { task(id: string): T | undefined; tasks(): { title: string }[] } } };
    const t = (globalThis as unknown as { weft: W }).weft.node.space(space)?.task(id);
    return t && { status: t.status, holder: t.lease?.holder, comments: t.comments.map((c) => c.body) };
  }, { space, id });

describe("acting before the node has caught up", { timeout: 300_000 }, () => {
  let d: TestDaemon;
  let p: Profile;
  let space: Space;
  let device = "";
  const ids: string[] = [];

  before(async () => {
    ensurePwaBuilt();
    d = await testDaemon();
    space = await d.daemon.node.createSpace("catch-up");
    for (let i = 0; i < TASKS; i++) ids.push((await space.createTask({ title: `catch-up task ${i}` })).id);
    p = await openProfile();
    await p.page.goto(d.daemon.url);
    await appReady(p.page);
    await joinByNode(p.page, await d.daemon.node.invite(space.id));
    device = await did(p.page);
    await eventually(async () => (await savedView(p.page))?.total === TASKS, 60_000, "the saved view of every task");
  });

  after(async () => {
    await p?.close();
    await d?.stop();
  });

  it("is interactive on the saved view, and makes what was done there against the verified state", async (t) => {
    const release = await holdDocuments(p, d.daemon.url);
    t.after(release);
    await visit(p.page, d.daemon.url, space.id);
    await p.page.waitForFunction(() => document.documentElement.dataset.interactive === "true");
    assert.equal(await p.page.locator("main.saved-view").count(), 1, "interactive on the saved view");
    assert.equal(await nodeOpen(p.page), false, "before the node has caught up");
    // Create, claim and comment, all before the catch-up ends.
    await p.page.fill("#new-task-title", "Filed during the catch-up");
    await p.page.click("main.saved-view form[aria-label='New task'] button[type=submit]");
    await p.page.locator("[data-intent=create]", { hasText: "Filed during the catch-up" }).waitFor();
    await p.page.locator(`tr[data-task="${ids[5]}"] button`, { hasText: "Claim" }).click();
    await p.page.locator("[data-intent=claim]", { hasText: "catch-up task 5" }).waitFor();
    await p.page.locator(`tr[data-task="${ids[6]}"] button`, { hasText: "Comment" }).click();
    await p.page.fill("#saved-comment", "Said during the catch-up");
    await p.page.click("form[aria-label='Comment on catch-up task 6'] button[type=submit]");
    await p.page.locator("[data-intent=comment]", { hasText: "catch-up task 6" }).waitFor();
    // An operation arriving meanwhile, from the daemon.
    await space.createTask({ title: "Filed on the daemon during the catch-up" });
    assert.equal(await nodeOpen(p.page), false, "all of it before the node caught up");
    assert.equal(await p.page.evaluate(() => document.documentElement.dataset.ready), undefined);

    await release();
    await appReady(p.page);
    await p.page.locator("[role=status]", { hasText: "3 action(s) taken before the check finished were made" })
      .waitFor();
    const claimed = await browserTask(p.page, space.id, ids[5]);
    assert.equal(claimed?.status, "claimed");
    assert.equal(claimed?.holder, device);
    assert.deepEqual((await browserTask(p.page, space.id, ids[6]))?.comments, ["Said during the catch-up"]);
    // Made through the node: signed, durable, and on the daemon.
    await eventually(
      () => space.tasks().some((t) => t.title === "Filed during the catch-up"),
      60_000,
      "the task filed during the catch-up on the daemon",
    );
    await eventually(() => space.task(ids[5])?.lease?.holder === device, 60_000, "the claim on the daemon");
    await p.page.locator("tr", { hasText: "Filed on the daemon during the catch-up" }).waitFor({ timeout: 60_000 });
    await p.page.locator("tr", { hasText: "Filed during the catch-up" }).first().waitFor();
  });

  it("refuses what the verified state refuses, though the saved view showed it allowed", async (t) => {
    // A saved view older than the space: task 9 open in it, claimed on the daemon since.
    const older = (await savedRecord(p.page))?.json ?? "";
    assert.ok(
      // Rows are kept as [id, title, status, labels, assignee, updatedAt].
      JSON.parse(older).rows.some((r: string[]) => r[0] === ids[9] && r[2] === "open"),
    );
    await space.claim(ids[9], 3_600_000);
    await eventually(
      async () => (await browserTask(p.page, space.id, ids[9]))?.status === "claimed",
      60_000,
      "the daemon's claim in the browser",
    );
    await eventually(
      async () => (await savedRecord(p.page))?.json !== older,
      30_000,
      "the view saved again, after the claim",
    );
    // Put the older view back, as a tab closed before it saved again would have left it (signed by this device).
    await editSaved(p.page, d.daemon.url, device, (json) => json, true, older);
    const release = await holdDocuments(p, d.daemon.url);
    t.after(release);
    await visit(p.page, d.daemon.url, space.id);
    await p.page.waitForFunction(() => document.documentElement.dataset.interactive === "true");
    await p.page.locator(`tr[data-task="${ids[9]}"] button`, { hasText: "Claim" }).click();
    await p.page.locator("[data-intent=claim]", { hasText: "catch-up task 9" }).waitFor();
    assert.equal(await nodeOpen(p.page), false);
    await release();
    await appReady(p.page);
    await p.page.locator("[role=alert]", {
      hasText:
        "Claim “catch-up task 9”, done before the check finished, was refused by the verified space: task is held by",
    }).waitFor();
    assert.equal((await browserTask(p.page, space.id, ids[9]))?.holder, d.daemon.node.did);
    assert.equal(space.task(ids[9])?.lease?.holder, d.daemon.node.did);
  });

  it("discards a saved view that claims an operation the space does not have, with the verified signatures", async () => {
    await eventually(async () => (await savedView(p.page)) !== undefined, 30_000, "a saved view");
    await editSaved(p.page, d.daemon.url, device, (json) => {
      const view = JSON.parse(json);
      view.heads = ["bafyreiaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"];
      return JSON.stringify(view);
    }, true);
    await visit(p.page, d.daemon.url, space.id);
    await p.page.waitForFunction(() => document.documentElement.dataset.firstRender === "saved");
    await appReady(p.page);
    await p.page.locator("[role=alert]", {
      hasText: "did not match what it claims: it claims an operation the verified space does not have",
    }).waitFor();
    // The record of verified signatures went with it: the next visit verifies every signature anew.
    const kept = await p.page.evaluate(async () => {
      type Db = { get(store: string, key: string): Promise<unknown> };
      return await (globalThis as unknown as { weft: { db: Db } }).weft.db.get("settings", "verified");
    });
    assert.equal(kept, undefined);
  });

  it("refuses before rendering a saved view whose own counts disagree", async () => {
    await eventually(async () => (await savedView(p.page)) !== undefined, 30_000, "a saved view");
    await editSaved(p.page, d.daemon.url, device, (json) => {
      const view = JSON.parse(json);
      view.rows.pop();
      return JSON.stringify(view);
    }, true);
    await visit(p.page, d.daemon.url, space.id);
    await appReady(p.page);
    assert.equal(await p.page.evaluate(() => document.documentElement.dataset.firstRender), "app");
    await p.page.locator("[role=alert]", { hasText: /it claims \d+ tasks and holds \d+/ }).waitFor();
  });
});
