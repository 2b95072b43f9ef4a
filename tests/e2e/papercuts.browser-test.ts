/**
 * The dashboard's papercuts, each fixed and held by an assertion, in
 * Debian's Chromium against a real peer daemon: Ctrl+K finds tasks by
 * words, labels and recent visits; repeated Claim clicks make one claim
 * and no renewal; concurrent title edits are shown, not lost silently; the
 * inbox tells of a lost claim, an approval waiting, a failed run and a
 * removal; the CPU chart's axis holds its values; phone width shows every
 * view; error notices collapse and close; a second invite link replaces
 * the first; capacity can be offered offline, and a failed offer is never
 * announced as a success; devices have names people can tell apart; a
 * browser-only space asks to keep its storage and warns it has no backup.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join as joinPath } from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { type TestDaemon, testDaemon } from "../helpers/daemon.ts";
import { eventually } from "../helpers/nodes.ts";
import { ArtifactClient } from "../../peer/artifacts/api-client.ts";
import { newTaskId, type Space } from "../../protocol/space/space.ts";
import { buildSamples } from "../../wasm-runners/samples/build.ts";
import { appReady, did, openProfile, type Profile, shot, SHOTS } from "./chromium.ts";
import { ensurePwaBuilt } from "./pwa-build.ts";

const REPORT = fileURLToPath(new URL("../../pwa/dist/build-report.json", import.meta.url));

type Weft = { weft: { node: { space(id: string): Space } } };

/** What the browser's own copy of a task says (its local state, not the peer's). */
function localTask(page: Page, space: string, task: string) {
  return page.evaluate(({ space, task }) => {
    const t = (globalThis as unknown as Weft).weft.node.space(space).task(task);
    return t && { title: t.title, history: t.history.map((h) => ({ kind: h.kind, author: h.author })) };
  }, { space, task });
}

describe("dashboard papercuts in Chromium against a peer daemon", { timeout: 600_000 }, () => {
  let d: TestDaemon;
  let space: Space;
  let ada: Profile;
  let url: string;
  let adaDid: string;

  before(async () => {
    ensurePwaBuilt();
    await mkdir(SHOTS, { recursive: true });
    d = await testDaemon({ WEFT_ADVERTISE_SECONDS: "2" });
    url = d.daemon.url;
    space = d.daemon.node.spaces()[0];
    ada = await openProfile();
    await ada.page.goto(url);
    await appReady(ada.page);
    await ada.page.fill("#invite-text", await d.daemon.node.invite(space.id, { name: "link for ada" }));
    await ada.page.click("form[aria-labelledby=join-title] button[type=submit]");
    await ada.page.waitForSelector("#tasks-title", { timeout: 60_000 });
    adaDid = await did(ada.page);
  });

  after(async () => {
    await ada?.close();
    await d?.stop();
  });

  it("names devices so people can tell them apart: the peer by its host, a browser with the end of its DID", async () => {
    const members = (await eventually(
      () => {
        const m = space.members();
        return m.some((x) => x.did === adaDid) ? m : undefined;
      },
      30_000,
      "ada as a member",
    ))!;
    assert.equal(members.find((m) => m.did === d.daemon.node.did)?.name, `peer on ${hostname()}`);
    assert.equal(members.find((m) => m.did === adaDid)?.name, `Chromium on Linux (${adaDid.slice(-4)})`);
  });

  it("Ctrl+K finds tasks by words of their titles, labels and recent visits", async () => {
    const page = ada.page;
    const notes = await space.createTask({ title: "Release notes" });
    const migration = await space.createTask({ title: "Build the migration", labels: ["db"] });
    await page.locator("tr", { hasText: "Build the migration" }).waitFor({ timeout: 30_000 });

    await page.keyboard.press("Control+k");
    await page.waitForSelector("#command-input:focus");
    await page.keyboard.type("open rel");
    await page.locator(`#command-options li[data-task="${notes.id}"]`).waitFor();
    await shot(page, "30-search");
    await page.keyboard.press("Enter");
    await page.locator("#task-title", { hasText: "Release notes" }).waitFor();

    // Not a command: words and a label find the task, Enter opens it.
    await page.keyboard.press("Control+k");
    await page.waitForSelector("#command-input:focus");
    await page.keyboard.type("#db mig");
    await page.locator(`#command-options li[data-task="${migration.id}"]`).waitFor();
    await page.keyboard.press("Enter");
    await page.locator("#task-title", { hasText: "Build the migration" }).waitFor();

    // An empty bar offers what was opened lately, newest first.
    await page.keyboard.press("Control+k");
    await page.waitForSelector("#command-input:focus");
    const first = page.locator("#command-options li").first();
    assert.equal(await first.getAttribute("data-task"), migration.id);
    assert.equal(await page.locator("#command-options li").nth(1).getAttribute("data-task"), notes.id);
    await page.keyboard.press("Escape");
  });

  it("six clicks on Claim make one claim and no renewal; where Claim was is not a button once claimed", async () => {
    const page = ada.page;
    const task = await space.createTask({ title: "Claim me once" });
    await page.goto(`${url}/#/s/${space.id}/task/${task.id}`);
    const claim = page.locator("button[data-action=claim]:not([disabled])");
    await claim.waitFor({ timeout: 30_000 });
    const box = (await claim.boundingBox())!;
    const x = box.x + box.width / 2;
    const y = box.y + box.height / 2;
    await page.mouse.click(x, y);
    await page.mouse.click(x, y);
    await page.locator("[data-held]").waitFor();
    for (let i = 0; i < 4; i++) await page.mouse.click(x, y);
    // Local operations are signed one after another: once this comment is in, any click's operation is too.
    await page.fill("#comment-body", "clicked six times");
    await page.click("form:has(#comment-body) button[type=submit]");
    await page.locator(".comments", { hasText: "clicked six times" }).waitFor();
    const kinds = (await localTask(page, space.id, task.id))!.history.map((h) => h.kind);
    assert.deepEqual(kinds.filter((k) => k === "claim" || k === "renew"), ["claim"], kinds.join(" "));
    await eventually(() => space.task(task.id)?.lease?.holder === adaDid, 30_000, "ada's lease on the peer");
  });

  it("shows concurrent title edits instead of losing one silently, and settles them with one more edit", async () => {
    const page = ada.page;
    const task = await space.createTask({ title: "Name me" });
    await page.goto(`${url}/#/s/${space.id}/task/${task.id}`);
    await page.locator("#task-title", { hasText: "Name me" }).waitFor({ timeout: 30_000 });
    await ada.setOffline(true);
    await page.click("button:has-text('Edit')");
    await page.fill("#edit-title", "Named by Ada");
    await page.click("form[aria-label='Edit task'] button[type=submit]");
    await page.locator("#task-title", { hasText: "Named by Ada" }).waitFor();
    await space.act("edit", { task: task.id, title: "Named by the peer" });
    await ada.setOffline(false);
    const conflict = page.locator("[data-title-conflict]");
    await conflict.waitFor({ timeout: 60_000 });
    const kept = space.task(task.id)!.title;
    const lost = kept === "Named by Ada" ? "Named by the peer" : "Named by Ada";
    await conflict.locator(`[data-replaced-title="${lost}"]`).waitFor();
    await shot(page, "31-title-conflict");
    await conflict.locator("button", { hasText: "Use this title" }).click();
    await page.locator("#task-title", { hasText: lost }).waitFor();
    await conflict.waitFor({ state: "detached" });
    await eventually(() => space.task(task.id)?.title === lost, 30_000, "the settled title on the peer");
  });

  it("the inbox tells of a lost claim, an approval waiting, a failed run and a removal", async () => {
    const page = ada.page;
    // A claim lost when concurrent claims meet: the peer's, made first, wins.
    const contested = await space.createTask({ title: "Contested" });
    await page.goto(`${url}/#/s/${space.id}/task/${contested.id}`);
    await page.locator("button[data-action=claim]:not([disabled])").waitFor({ timeout: 30_000 });
    await ada.setOffline(true);
    await space.claim(contested.id, 600_000);
    await page.click("button[data-action=claim]");
    await page.locator("[data-held]").waitFor();
    await ada.setOffline(false);

    // An approval: Ada's task asks for review; the peer reports a result.
    const reviewed = newTaskId();
    await page.evaluate(
      ({ space, task }) =>
        (globalThis as unknown as Weft).weft.node.space(space).act("create", {
          task,
          title: "Review me",
          review: true,
        }),
      { space: space.id, task: reviewed },
    );
    await eventually(() => space.task(reviewed), 30_000, "ada's task on the peer");
    const held = await space.claim(reviewed, 600_000);
    await space.act("result", { task: reviewed, fence: held.lease!.fence, outcome: "success" });

    // A failed run: Ada's job for the peer runs out of memory.
    const dir = await mkdtemp(joinPath(tmpdir(), "weft-e2e-inbox-"));
    let program: string;
    try {
      await writeFile(joinPath(dir, "bomb.wasm"), (await buildSamples())["memory-bomb"].component);
      program = (await new ArtifactClient(d.client).upload(space.id, joinPath(dir, "bomb.wasm"), {
        hashing() {},
        sending() {},
      })).cid;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const bomb = newTaskId();
    await page.evaluate(
      ({ space, task, program }) =>
        (globalThis as unknown as Weft).weft.node.space(space).act("create", {
          task,
          title: "Bomb",
          run: {
            runner: "wasm",
            program,
            args: [],
            inputs: [],
            env: [],
            limits: { wallMs: 60_000, memoryMb: 16, outputBytes: 1 << 20 },
          },
        }),
      { space: space.id, task: bomb, program },
    );

    await page.click("nav >> text=Inbox");
    await page.locator(`[data-inbox=lost-claim][data-task="${contested.id}"]`).waitFor({ timeout: 60_000 });
    await page.locator(`[data-inbox=approval][data-task="${reviewed}"]`).waitFor({ timeout: 60_000 });
    await page.locator(`[data-inbox=run-failed][data-task="${bomb}"]`).waitFor({ timeout: 120_000 });
    assert.equal(space.task(contested.id)?.lease?.holder, d.daemon.node.did, "the peer's claim won");
    // The count in the navigation is refreshed every few seconds: wait for it to catch up with the list.
    await page.locator('[data-inbox-count="3"]').waitFor({ timeout: 30_000 });
    await shot(page, "32-inbox");
  });

  it("the CPU chart's axis holds every value it plots (load can exceed the cores)", async () => {
    const page = ada.page;
    await page.goto(`${url}/#/s/${space.id}/resources`);
    const cpu = page.locator("figure.chart", { hasText: "CPU load" });
    await cpu.locator("li[data-value]").first().waitFor({ timeout: 30_000 });
    const max = Number(await cpu.locator("svg").getAttribute("data-axis-max"));
    const values = (await cpu.locator("li[data-value]").evaluateAll((els) => els.map((e) => e.dataset.value)))
      .map(Number);
    assert.ok(max >= 100, `the axis starts from 100 % × cores, got ${max}`);
    for (const v of values) assert.ok(v <= max, `${v} % plotted on an axis to ${max} %`);
  });

  it("shows every view's link at phone width", async () => {
    const page = ada.page;
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      await page.goto(`${url}/#/s/${space.id}/tasks`);
      await page.locator("#tasks-title").waitFor();
      const outside = await page.locator("nav.views a").evaluateAll((links) =>
        links.filter((a) => {
          const r = a.getBoundingClientRect();
          return r.left < 0 || r.right > innerWidth || r.width === 0;
        }).map((a) => a.textContent)
      );
      assert.deepEqual(outside, []);
      await shot(page, "33-phone-nav");
    } finally {
      await page.setViewportSize({ width: 1280, height: 860 });
    }
  });

  it("error notices collapse when repeated and close by themselves", async () => {
    const page = ada.page;
    await page.goto(`${url}/#/join`);
    for (let i = 0; i < 4; i++) {
      await page.fill("#invite-text", "not an invite");
      await page.click("form[aria-labelledby=join-title] button[type=submit]");
      await page.locator(".notice.error").first().waitFor();
    }
    await page.locator(".notice.error", { hasText: "(×4)" }).waitFor();
    assert.equal(await page.locator(".notice.error").count(), 1);
    await page.locator(".notice.error").waitFor({ state: "detached", timeout: 30_000 });
  });

  it("a second invite link replaces the first on the join page", async () => {
    const page = ada.page;
    await page.goto(`${url}/#/join?invite=weft-invite:first`);
    await page.waitForFunction(() =>
      (document.getElementById("invite-text") as HTMLTextAreaElement | null)?.value === "weft-invite:first"
    );
    assert.equal(new URL(page.url()).hash, "#/join", "the invite is taken out of the address bar");
    await page.evaluate(() => location.hash = "#/join?invite=weft-invite:second");
    await page.waitForFunction(() =>
      (document.getElementById("invite-text") as HTMLTextAreaElement).value === "weft-invite:second"
    );
  });

  it("offers capacity offline (everything the app loads is cached), and never announces a failed offer", async () => {
    const page = ada.page;
    const { later } = JSON.parse(await readFile(REPORT, "utf8")) as { later: string[] };
    assert.ok(later.some((f) => f.endsWith(".wasm")), "jco's transpiler is among the files cached later");
    await page.waitForFunction(
      async (files) => {
        const cache = await caches.open((await caches.keys()).find((k) => k.startsWith("weft-"))!);
        for (const f of files) if (!(await cache.match(new URL(f, location.href).href))) return false;
        return true;
      },
      later,
      { timeout: 120_000 },
    );
    await ada.setOffline(true);
    try {
      await page.goto(`${url}/#/s/${space.id}/resources`);
      await page.reload();
      await appReady(page);
      await page.check("#offer-capacity");
      await page.locator("[data-offer-state=on]").waitFor({ timeout: 60_000 });
      await page.locator(".notice", { hasText: "Offering this tab's capacity" }).waitFor();
      await page.uncheck("#offer-capacity");
      await page.locator("[data-offer-state=off]").waitFor({ timeout: 30_000 });
    } finally {
      await ada.setOffline(false);
    }

    // A browser that cannot run workers: the offer fails, and says so instead of announcing success.
    const bare = await openProfile();
    try {
      await bare.context.addInitScript(() => Object.defineProperty(globalThis, "Worker", { value: undefined }));
      await bare.page.goto(url);
      await appReady(bare.page);
      await bare.page.fill("#invite-text", await d.daemon.node.invite(space.id, { name: "link for a bare tab" }));
      await bare.page.click("form[aria-labelledby=join-title] button[type=submit]");
      await bare.page.waitForSelector("#tasks-title", { timeout: 60_000 });
      await bare.page.goto(`${url}/#/s/${space.id}/resources`);
      await bare.page.check("#offer-capacity");
      await bare.page.locator(".notice.error", { hasText: "cannot offer capacity" }).waitFor({ timeout: 60_000 });
      assert.equal(await bare.page.locator(".notice", { hasText: "Offering this tab's capacity" }).count(), 0);
      assert.equal(await bare.page.isChecked("#offer-capacity"), false, "the failed offer is not left on");
    } finally {
      await bare.close();
    }
  });

  it("a space made in the browser asks to keep its storage and warns that nothing backs it up yet", async () => {
    const page = ada.page;
    await page.goto(`${url}/#/s/${space.id}/tasks`);
    await page.locator("#tasks-title").waitFor();
    assert.equal(await page.locator("[data-backup]").count(), 0, "the peer holds this one");
    await page.goto(`${url}/#/spaces`);
    await page.fill("#space-name", "Only here");
    await page.click("form[aria-labelledby=create-space-title] button[type=submit]");
    const banner = page.locator("[data-backup=none]");
    await banner.waitFor();
    await page.waitForFunction(() => document.querySelector("[data-backup]")?.getAttribute("data-persistence"));
    const said = await banner.getAttribute("data-persistence");
    const persisted = await page.evaluate(() => navigator.storage.persisted());
    assert.equal(said, persisted ? "persistent" : "best-effort");
    await shot(page, "34-browser-only-space");
  });

  it("the inbox says when you were removed from a space", async () => {
    const page = ada.page;
    const member = space.members().find((m) => m.did === adaDid)!;
    for (const cid of member.delegations) await space.revoke(cid);
    await page.goto(`${url}/#/s/${space.id}/inbox`);
    await page.locator("[data-inbox=removed]").waitFor({ timeout: 60_000 });
  });

  it("logged no console errors (beyond network errors while deliberately offline)", () => {
    assert.deepEqual(ada.errors.filter((e) => !e.offline).map((e) => e.text), []);
  });
});
