/**
 * The Runs view in Debian's Chromium against a real peer daemon: a run
 * started from the browser (program and input chosen as files here, kept
 * by CID in the tab and fetched from it by the peer that runs it) runs on
 * the peer, shows its live log, its outputs download with their bytes
 * checked, and its manifest's provenance verifies in the browser; the list
 * shows kind, node, state, start, duration and resources; Re-run makes one
 * new run with the same spec however fast it is clicked; Stop (from a run
 * started by CID) is the signed cancel the peer obeys at once.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join as joinPath } from "node:path";
import { type TestDaemon, testDaemon } from "../helpers/daemon.ts";
import { eventually } from "../helpers/nodes.ts";
import { ArtifactClient } from "../../peer/artifacts/api-client.ts";
import { cidOf, RAW } from "../../protocol/codec/cid.ts";
import type { Pod } from "../../protocol/scheduler/pods.ts";
import type { Space } from "../../protocol/space/space.ts";
import { buildSamples } from "../../wasm-runners/samples/build.ts";
import { appReady, did, openProfile, type Profile, shot, SHOTS } from "./chromium.ts";
import { ensurePwaBuilt } from "./pwa-build.ts";

describe("the Runs view in Chromium against a peer daemon", { timeout: 600_000 }, () => {
  let d: TestDaemon;
  let space: Space;
  let ada: Profile;
  let url: string;
  let firstRun: string;

  before(async () => {
    ensurePwaBuilt();
    await mkdir(SHOTS, { recursive: true });
    d = await testDaemon();
    url = d.daemon.url;
    space = d.daemon.node.spaces()[0];
    ada = await openProfile();
    await ada.page.goto(url);
    await appReady(ada.page);
    await ada.page.fill("#invite-text", await d.daemon.node.invite(space.id, { name: "link for ada" }));
    await ada.page.click("form[aria-labelledby=join-title] button[type=submit]");
    await ada.page.waitForSelector("#tasks-title", { timeout: 60_000 });
  });

  after(async () => {
    await ada?.close();
    await d?.stop();
  });

  it("starts a run from files chosen in the browser; the peer runs it, its output downloads and its provenance verifies", async () => {
    const page = ada.page;
    const adaDid = await did(page);
    const hasher = (await buildSamples()).hasher.component;
    const text = "hashed on the peer, chosen in the browser\n";
    await page.click("nav >> text=Runs");
    await page.locator("#runs-title").waitFor();
    await page.locator("main .empty", { hasText: "No run in this space yet" }).waitFor();
    await page.click("details.start-run > summary");
    await page.selectOption("#run-kind", "wasm");
    await page.fill("#run-title", "Hash from the browser");
    await page.setInputFiles("#run-program-file", {
      name: "hasher.wasm",
      mimeType: "application/wasm",
      buffer: Buffer.from(hasher),
    });
    await page.fill("#run-args", "input.txt");
    await page.setInputFiles("#run-input-files", {
      name: "input.txt",
      mimeType: "text/plain",
      buffer: Buffer.from(text),
    });
    await page.fill("#run-wall", "120");
    await page.fill("#run-memory", "64");
    await shot(page, "20-start-run");
    await page.click("form[aria-labelledby=start-run-title] button[type=submit]");
    await page.locator("#history-title").waitFor();

    const task = (await eventually(
      () => space.tasks().find((t) => t.title === "Hash from the browser"),
      30_000,
      "the browser's run on the peer",
    ))!;
    firstRun = task.id;
    assert.equal(task.creator, adaDid, "signed by the browser's own key");
    assert.equal(task.run?.program, cidOf(hasher, RAW).toString(), "the program is named by the CID of its bytes");
    const done = (await eventually(
      () => (space.task(task.id)?.results.length ? space.task(task.id) : undefined),
      120_000,
      "the peer's result",
    ))!;
    assert.equal(
      done.results[0].by,
      d.daemon.node.did,
      "run by the peer, which fetched program and input from the tab",
    );
    assert.equal(done.results[0].outcome, "success", done.results[0].summary);
    const sum = createHash("sha256").update(text).digest("hex");
    await page.locator("[data-pod-state=succeeded]").waitFor({ timeout: 30_000 });
    await page.locator("pre.log", { hasText: `${sum}  input.txt` }).waitFor({ timeout: 30_000 });
    const manifest = page.locator(`[data-manifest="${done.results[0].manifest}"]`);
    await manifest.locator("[data-provenance=verified]").waitFor({ timeout: 30_000 });

    const [download] = await Promise.all([
      page.waitForEvent("download"),
      manifest.locator("button[data-download=sha256sums]").click(),
    ]);
    assert.equal(download.suggestedFilename(), "sha256sums");
    const saved = await download.path();
    assert.equal(await readFile(saved, "utf8"), `${sum}  input.txt\n`);
    await shot(page, "21-run-page");
  });

  it("lists the run with kind, node, state, start, duration and resources", async () => {
    const page = ada.page;
    await page.goto(`${url}/#/s/${space.id}/runs`);
    const row = page.locator(`tr[data-run="${firstRun}"][data-pod-state=succeeded]`);
    await row.waitFor();
    const cells = await row.locator("td").allInnerTexts();
    assert.match(cells[0], /Hash from the browser/);
    assert.equal(cells[1], "wasm");
    assert.match(cells[2], /succeeded/);
    assert.equal(cells[3], `peer on ${hostname()}`, "the peer, by the name it gave itself");
    assert.notEqual(cells[4], "—", "a start time");
    assert.match(cells[5], /^\d+(\.\d)? s$/, "a duration");
    assert.match(cells[6], /64 MB, 120 s/);
    await page.selectOption("#runs-state", "failed");
    await page.locator("main .empty", { hasText: "No run in this state" }).waitFor();
    await page.selectOption("#runs-state", "");
    await row.waitFor();
    await shot(page, "22-runs");
  });

  it("re-runs once however fast Re-run is clicked: one new run with the same spec", async () => {
    const page = ada.page;
    const before = space.tasks().length;
    // Three clicks in one task of the event loop: before the page re-renders the button disabled.
    await page.locator(`tr[data-run="${firstRun}"] button[data-run-action=rerun]`).evaluate((b: HTMLElement) => {
      b.click();
      b.click();
      b.click();
    });
    const again = (await eventually(
      () => space.tasks().find((t) => t.title === "Re-run: Hash from the browser"),
      30_000,
      "the re-run on the peer",
    ))!;
    assert.deepEqual(again.run, space.task(firstRun)!.run, "the same spec");
    await eventually(() => space.task(again.id)?.results.length, 120_000, "the re-run's result");
    await page.locator(`tr[data-run="${again.id}"][data-pod-state=succeeded]`).waitFor({ timeout: 30_000 });
    assert.equal(space.tasks().length, before + 1, "one new run, not three");
  });

  it("starts a run by CID and stops it: a signed cancel the peer obeys at once", async () => {
    const page = ada.page;
    const dir = await mkdtemp(joinPath(tmpdir(), "weft-e2e-runs-"));
    let program: string;
    try {
      await writeFile(joinPath(dir, "sleep.wasm"), (await buildSamples()).sleep.component);
      program = (await new ArtifactClient(d.client).upload(space.id, joinPath(dir, "sleep.wasm"), {
        hashing() {},
        sending() {},
      })).cid;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    await page.goto(`${url}/#/s/${space.id}/runs`);
    await page.click("details.start-run > summary");
    await page.fill("#run-title", "Sleep until stopped");
    await page.selectOption("#run-kind", "wasm");
    await page.check("#run-source-reference");
    await page.fill("#run-program", program);
    await page.fill("#run-args", "600000");
    await page.click("form[aria-labelledby=start-run-title] button[type=submit]");
    await page.locator("pre.log", { hasText: "sleeping 600000 ms" }).waitFor({ timeout: 60_000 });
    const task = space.tasks().find((t) => t.title === "Sleep until stopped")!;
    await page.click("button[data-run-action=stop]");
    await page.locator("[data-pod-state=cancelled]").waitFor({ timeout: 30_000 });
    assert.equal(space.task(task.id)?.status, "cancelled");
    const pod = await eventually(
      async () => {
        const p = await d.client.get<Pod>(`/v1/spaces/${space.id}/pods/${task.id}`);
        return p.local?.status === "stopped" ? p : undefined;
      },
      30_000,
      "the peer stopping the run",
    );
    assert.equal(pod?.state, "cancelled");
  });

  it("logged no console errors", () => {
    assert.deepEqual(ada.errors.map((e) => e.text), []);
  });
});
