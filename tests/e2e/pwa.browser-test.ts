/**
 * The dashboard in Debian's Chromium against a real peer daemon: it
 * installs (manifest, service worker, no installability errors), joins a
 * space with a link invite as a member device, syncs tasks both ways,
 * reloads and keeps working offline and syncs offline edits on reconnect,
 * and with two profiles as two people with different capabilities shows
 * that the UI and the verifier agree on who may claim. Screenshots of the
 * main views go to tests/e2e/screenshots/; no console errors are allowed
 * (beyond the browser's own network errors while deliberately offline).
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join as joinPath } from "node:path";
import type { Page } from "playwright-core";
import { type TestDaemon, testDaemon } from "../helpers/daemon.ts";
import { ArtifactClient } from "../../peer/artifacts/api-client.ts";
import { eventually } from "../helpers/nodes.ts";
import { runLog } from "../../protocol/scheduler/run-log-service.ts";
import { newTaskId, type Space } from "../../protocol/space/space.ts";
import { Commands } from "../../protocol/ucan/commands.ts";
import { appReady, did, openProfile, type Profile, shot, SHOTS } from "./chromium.ts";
import { ensurePwaBuilt } from "./pwa-build.ts";
import { forgeInBrowser } from "./forge.ts";
import { buildSamples } from "../../wasm-runners/samples/build.ts";

const JOIN = "form[aria-labelledby=join-title] button[type=submit]";

async function join(page: Page, invite: string): Promise<void> {
  await page.fill("#invite-text", invite);
  await page.click(JOIN);
  await page.waitForSelector("#tasks-title", { timeout: 60_000 });
}

async function addTask(page: Page, title: string): Promise<void> {
  await page.fill("#new-task-title", title);
  await page.press("#new-task-title", "Enter");
  await page.locator("tr", { hasText: title }).waitFor();
}

async function command(page: Page, line: string): Promise<void> {
  await page.keyboard.press("Control+k");
  await page.waitForSelector("#command-input:focus");
  await page.fill("#command-input", line);
  await page.keyboard.press("Enter");
}

/** Put files into the peer's artifacts, as `weft run` uploads programs and inputs; resolves to their CIDs. */
async function upload(d: TestDaemon, space: string, files: (Uint8Array | string)[]): Promise<string[]> {
  const dir = await mkdtemp(joinPath(tmpdir(), "weft-e2e-run-"));
  try {
    const artifacts = new ArtifactClient(d.client);
    const cids: string[] = [];
    for (const [i, bytes] of files.entries()) {
      await writeFile(joinPath(dir, String(i)), bytes);
      cids.push((await artifacts.upload(space, joinPath(dir, String(i)), { hashing() {}, sending() {} })).cid);
    }
    return cids;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A WASM job for the mesh to place, as a task the peer files. */
function wasmJob(program: string, args: string[], inputs: { path: string; cid: string }[] = []) {
  return {
    runner: "wasm",
    program,
    args,
    inputs,
    env: [],
    limits: { wallMs: 120_000, memoryMb: 64, outputBytes: 1 << 20 },
  };
}

describe("the PWA in Chromium against a peer daemon", { timeout: 600_000 }, () => {
  let d: TestDaemon;
  let space: Space;
  let ada: Profile;
  let bob: Profile | undefined;
  let url: string;

  before(async () => {
    ensurePwaBuilt();
    await mkdir(SHOTS, { recursive: true });
    // The peer re-advertises its capacity every 2 s (not 30), so a tab that just connected hears it soon.
    d = await testDaemon({ WEFT_ADVERTISE_SECONDS: "2" });
    url = d.daemon.url;
    space = d.daemon.node.spaces()[0];
    ada = await openProfile();
  });

  after(async () => {
    await bob?.close();
    await ada?.close();
    await d?.stop();
  });

  it("is installable: a valid manifest, an active service worker precaching the wasm, no installability errors", async () => {
    const page = ada.page;
    await page.goto(url);
    await appReady(page);
    await page.waitForFunction(async () => (await navigator.serviceWorker.ready).active?.state === "activated");
    const cdp = await page.context().newCDPSession(page);
    const manifest = await cdp.send("Page.getAppManifest");
    assert.deepEqual(manifest.errors, []);
    const parsed = JSON.parse(manifest.data ?? "{}");
    assert.equal(parsed.name, "Weft");
    assert.equal(parsed.display, "standalone");
    assert.deepEqual((await cdp.send("Page.getInstallabilityErrors")).installabilityErrors, []);
    const cached = await page.evaluate(async () => {
      const urls: string[] = [];
      for (const name of await caches.keys()) for (const r of await (await caches.open(name)).keys()) urls.push(r.url);
      return urls;
    });
    assert.ok(cached.some((u) => u.endsWith(".wasm")), "the automerge wasm is precached");
    assert.ok(cached.some((u) => u.endsWith("/index.html")), "the app shell is precached");
    await shot(page, "01-welcome");
  });

  it("joins a space with a link invite and shows up as a member device", async () => {
    await join(ada.page, await d.daemon.node.invite(space.id, { name: "link for ada" }));
    const adaDid = await did(ada.page);
    const member = (await eventually(() => space.members().find((m) => m.did === adaDid), 30_000, "ada as a member"))!;
    assert.equal(member.kind, "member");
    assert.match(member.name ?? "", /Chromium/);
    await ada.page.click("nav >> text=People");
    await ada.page.locator(`tr[data-member="${adaDid}"]`, { hasText: "this device" }).waitFor();
  });

  it("syncs tasks both ways: made in the browser, seen on the peer; made on the peer, seen in the browser", async () => {
    await ada.page.click("nav >> text=Tasks");
    await addTask(ada.page, "Write the release notes");
    const made = (await eventually(
      () => space.tasks().find((t) => t.title === "Write the release notes"),
      30_000,
      "the browser's task on the peer",
    ))!;
    assert.equal(made.creator, await did(ada.page), "signed by the browser's own key");
    const design = await space.createTask({ title: "Design the schema", labels: ["db"] });
    const build = await space.createTask({ title: "Build the migration", deps: [design.id], labels: ["db"] });
    await space.createTask({ title: "Ship it", deps: [build.id] });
    await ada.page.locator("tr", { hasText: "Ship it" }).waitFor({ timeout: 30_000 });
    await shot(ada.page, "02-tasks");
  });

  it("reloads offline from the service worker and IndexedDB, and syncs an offline edit after reconnecting", async () => {
    const page = ada.page;
    await ada.setOffline(true);
    await page.reload();
    await appReady(page);
    await page.locator("tr", { hasText: "Design the schema" }).waitFor();
    await page.locator("[data-connection]:not([data-connection=ok])").waitFor();
    await command(page, "task add Written on the train #offline");
    await page.locator("tr", { hasText: "Written on the train" }).waitFor();
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(space.tasks().some((t) => t.title === "Written on the train"), false, "nothing left the browser");
    await ada.setOffline(false);
    const synced = (await eventually(
      () => space.tasks().find((t) => t.title === "Written on the train"),
      60_000,
      "the offline edit on the peer",
    ))!;
    assert.deepEqual(synced.labels, ["offline"]);
    await page.locator("[data-connection=ok]").waitFor({ timeout: 30_000 });
  });

  it("two people, two capabilities: without /weft/task/claim the UI offers no claim and the verifier refuses one", async () => {
    bob = await openProfile();
    await bob.page.goto(url);
    await appReady(bob.page);
    // Bob may only sync; Ada (a full member) delegates commenting to him through her UI.
    await join(bob.page, await d.daemon.node.invite(space.id, { command: Commands.spaceSync, name: "link for bob" }));
    const bobDid = await did(bob.page);
    const adaDid = await did(ada.page);
    await ada.page.click("nav >> text=Capabilities");
    await ada.page.fill("#dlg-audience", bobDid);
    await ada.page.selectOption("#dlg-command", Commands.taskComment);
    await ada.page.click("form[aria-labelledby=delegate-title] button[type=submit]");
    await ada.page.locator(`tr[data-audience="${bobDid}"][data-command="${Commands.taskComment}"]`).waitFor();
    await shot(ada.page, "08-capabilities");

    const task = space.tasks().find((t) => t.title === "Design the schema")!;
    await bob.page.goto(`${url}/#/s/${space.id}/task/${task.id.slice(0, 6)}`);
    await bob.page.waitForSelector("#comment-body", { timeout: 30_000 });
    const claim = bob.page.locator("button[data-action=claim]");
    assert.equal(await claim.isDisabled(), true, "no claim without /weft/task/claim");
    assert.match(await bob.page.locator("#why-claim").innerText(), /\/weft\/task\/claim/);
    await bob.page.fill("#comment-body", "I can comment, not claim.");
    await bob.page.click("form:has(#comment-body) button[type=submit]");
    await eventually(
      () => space.task(task.id)?.comments.some((c) => c.author === bobDid),
      30_000,
      "bob's comment on the peer",
    );
    await shot(bob.page, "14-task-without-claim");

    // The command bar tries anyway, and the node's own check says why not.
    await command(bob.page, `claim ${task.id.slice(0, 6)}`);
    await bob.page.locator("#command-error", { hasText: "/weft/task/claim" }).waitFor();
    await bob.page.keyboard.press("Escape");

    // A claim signed by Bob's own key with his real chain, forced past the UI: every verifier refuses it.
    const forged = await forgeInBrowser(bob.page, space, task.id, Commands.taskClaim);
    const local = await bob.page.evaluate(
      async ({ id, bytes }) => {
        const weft = (globalThis as unknown as { weft: { node: { space(id: string): Space } } }).weft;
        try {
          await weft.node.space(id).submit(new Uint8Array(bytes));
          return "accepted";
        } catch (e) {
          return `${(e as Error).name}: ${(e as Error).message}`;
        }
      },
      { id: space.id, bytes: [...forged.bytes] },
    );
    assert.match(local, /^Forbidden/);
    await assert.rejects(space.submit(forged.bytes), (e: Error) => e.name === "Forbidden");
    // Written straight into the shared document, it reaches the peer, which refuses it too.
    await bob.page.evaluate(
      ({ id, cid, bytes }) => {
        type Handle = { change(f: (d: { ops: Record<string, Uint8Array> }) => void): void };
        const weft = (globalThis as unknown as {
          weft: { node: { space(id: string): Space; repo: { handles: Record<string, Handle> } } };
        }).weft;
        const bucket = weft.node.space(id).documentIds[1];
        weft.node.repo.handles[bucket].change((doc) => {
          doc.ops[cid] = new Uint8Array(bytes);
        });
      },
      { id: space.id, cid: forged.cid.toString(), bytes: [...forged.bytes] },
    );
    await eventually(
      () =>
        d.daemon.node.diagnostics.refusals({ space: space.id }).some((r) =>
          r.from === bobDid && r.what.includes(forged.cid.toString())
        ),
      30_000,
      "the peer's refusal of the forced claim",
    );
    assert.equal(space.task(task.id)?.status, "open");
    await bob.page.click("nav >> text=Diagnostics");
    await bob.page.locator("tr[data-refusal]", { hasText: forged.cid.toString() }).waitFor();
    await shot(bob.page, "09-diagnostics");

    // Ada holds /weft/task/claim: her button works, and the peer sees her lease.
    await ada.page.goto(`${url}/#/s/${space.id}/task/${task.id}`);
    await ada.page.locator("button[data-action=claim]:not([disabled])").click();
    await ada.page.locator("button[data-action=renew]").waitFor();
    await eventually(() => space.task(task.id)?.lease?.holder === adaDid, 30_000, "ada's lease on the peer");
  });

  it("renders every main view, keyboard-reachable, at desktop and phone width", async () => {
    const page = ada.page;
    const task = space.tasks().find((t) => t.title === "Design the schema")!;
    await page.goto(`${url}/#/s/${space.id}/task/${task.id}`);
    await page.locator("#history-title").waitFor();
    await page.locator("table.history tr", { hasText: "claimed with fence 1" }).waitFor();
    await shot(page, "05-task-detail");
    const views = [["board", "03-board", ".column"], ["graph", "04-graph", ".gnode"], ["people", "06-people", "tr"]];
    for (const [view, name, shown] of views) {
      await page.goto(`${url}/#/s/${space.id}/${view}`);
      await page.locator(`main ${shown}`).first().waitFor();
      await shot(page, name);
    }
    await page.goto(`${url}/#/s/${space.id}/resources`);
    await page.locator("#resources-title").waitFor();
    await page.goto(`${url}/#/settings`);
    await page.locator("[data-peer-state=open]").waitFor();
    await shot(page, "10-settings");

    // Keyboard: the skip link, Ctrl+K into the command bar, Escape out of it.
    await page.goto(`${url}/#/s/${space.id}/tasks`);
    await page.reload();
    await page.locator("#tasks-title").waitFor();
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Skip to content");
    await page.keyboard.press("Control+k");
    await page.waitForSelector("#command-input:focus");
    await page.keyboard.type("cl");
    await shot(page, "11-command-bar");
    await page.keyboard.press("Escape");
    assert.equal(await page.locator("dialog.command-bar[open]").count(), 0);

    await page.setViewportSize({ width: 390, height: 844 });
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await shot(page, "12-phone-tasks");
    await page.goto(`${url}/#/s/${space.id}/task/${task.id}`);
    await page.locator("#history-title").waitFor();
    await shot(page, "13-phone-task");
    await page.setViewportSize({ width: 1280, height: 860 });
  });

  it("offers the tab's capacity: a WASM job for browsers runs in a Web Worker here, with its live log and signed manifest", async () => {
    const page = ada.page;
    const adaDid = await did(page);
    const text = "hashed in a browser tab\n";
    const [program, input] = await upload(d, space.id, [(await buildSamples()).hasher.component, text]);
    await page.goto(`${url}/#/s/${space.id}/resources`);
    await page.check("#offer-capacity");
    await page.locator("[data-offer-state=on]").waitFor({ timeout: 60_000 });
    await eventually(
      () => d.daemon.node.gossip(space.id)?.adverts().some((a) => a.node === adaDid && a.runners.includes("wasm")),
      30_000,
      "the tab's capacity advert on the peer",
    );
    await page.locator("tr", { hasText: "weft-pwa" }).waitFor();
    await page.waitForFunction(() => document.querySelectorAll("main tbody tr").length >= 2, undefined, {
      timeout: 30_000,
    });
    await shot(page, "07-resources");

    // Only browser tabs carry the tag `browser`: the peer cannot take it, the tab must.
    const task = await space.act("create", {
      task: newTaskId(),
      title: "Hash in the browser",
      run: wasmJob(program, ["input.txt"], [{ path: "input.txt", cid: input }]),
      requirements: { tags: ["browser"] },
    });
    await page.goto(`${url}/#/s/${space.id}/task/${task.id}`);
    const done = (await eventually(
      () => (space.task(task.id)?.results.length ? space.task(task.id) : undefined),
      120_000,
      "the tab's result on the peer",
    ))!;
    assert.equal(done.results[0].by, adaDid, "run by the tab");
    assert.equal(done.results[0].outcome, "success", done.results[0].summary);
    assert.ok(done.results[0].manifest, "the result names the run's manifest");
    const sum = createHash("sha256").update(text).digest("hex");
    await page.locator("pre.log", { hasText: `${sum}  input.txt` }).waitFor({ timeout: 30_000 });
    await page.locator(`[data-manifest="${done.results[0].manifest}"] [data-provenance=verified]`).waitFor();
    await page.locator("[data-pod-state=succeeded]").waitFor();
    // The peer reads the same log from the tab over its sync session.
    const lines: string[] = [];
    for await (const l of runLog(d.daemon.node, undefined, space.id, space.task(task.id)!, false)) lines.push(l.text);
    assert.ok(lines.some((l) => l.includes(`${sum}  input.txt`)), lines.join("\n"));
    await shot(page, "15-browser-run");

    await page.goto(`${url}/#/s/${space.id}/resources`);
    await page.uncheck("#offer-capacity");
    await page.locator("[data-offer-state=off]").waitFor({ timeout: 30_000 });
  });

  it("follows the log of a job running on the peer, live, and verifies the peer's manifest", async () => {
    const page = ada.page;
    const [program] = await upload(d, space.id, [(await buildSamples()).sleep.component]);
    // Long enough for the page to start following while it runs (nothing asserts how long anything took).
    const task = await space.act("create", {
      task: newTaskId(),
      title: "Sleep on the peer",
      run: wasmJob(program, ["15000"]),
    });
    await page.goto(`${url}/#/s/${space.id}/task/${task.id}`);
    await page.locator("[data-log-state=following]").waitFor({ timeout: 60_000 });
    await page.locator("pre.log", { hasText: "sleeping 15000 ms" }).waitFor({ timeout: 60_000 });
    await shot(page, "16-live-log");
    await page.locator("pre.log", { hasText: "done" }).waitFor({ timeout: 60_000 });
    await page.locator("[data-pod-state=succeeded]").waitFor({ timeout: 30_000 });
    const result = space.task(task.id)!.results[0];
    assert.equal(result.by, d.daemon.node.did, "run by the peer, not the tab");
    // The peer's manifest is fetched by CID over the session and verified in the browser.
    await page.locator(`[data-manifest="${result.manifest}"] [data-provenance=verified]`).waitFor({ timeout: 30_000 });
  });

  it("logged no console errors (beyond network errors while deliberately offline)", () => {
    const errors = [ada, bob].flatMap((p) => p?.errors ?? []).filter((e) => !e.offline).map((e) => e.text);
    assert.deepEqual(errors, []);
  });
});
