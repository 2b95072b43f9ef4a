/**
 * Revocation in the dashboard, in Debian's Chromium against a real peer
 * daemon: an admin's revoke dialog says what happens to the member's work
 * before it is confirmed, and the removed member's tab (told by the peer
 * over its session) says who removed it, stops saying "Synced" and offers
 * no action it can no longer take. Screenshots go to tests/e2e/screenshots/.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import { type TestDaemon, testDaemon } from "../helpers/daemon.ts";
import type { Space } from "../../protocol/space/space.ts";
import { appReady, did, join, openProfile, type Profile, shot, SHOTS } from "./chromium.ts";
import { ensurePwaBuilt } from "./pwa-build.ts";

describe("revocation in the dashboard", { timeout: 300_000 }, () => {
  let d: TestDaemon;
  let space: Space;
  let ada: Profile;
  let bob: Profile;

  before(async () => {
    ensurePwaBuilt();
    await mkdir(SHOTS, { recursive: true });
    d = await testDaemon();
    space = d.daemon.node.spaces()[0];
    [ada, bob] = await Promise.all([openProfile(), openProfile()]);
    for (const p of [ada, bob]) {
      await p.page.goto(d.daemon.url);
      await appReady(p.page);
    }
  });

  after(async () => {
    await bob?.close();
    await ada?.close();
    await d?.stop();
  });

  it("says what happens to the member's work before revoking, and the member's tab says who removed it", async () => {
    await join(ada.page, await d.daemon.node.invite(space.id, { name: "Ada" }));
    // Ada (an admin) invites Bob from her tab, so she can revoke him.
    const bobDid = await did(bob.page);
    const invite = await ada.page.evaluate(
      ([id, audience]) =>
        (globalThis as unknown as {
          weft: { node: { invite(s: string, o: { audience: string; name: string }): Promise<string> } };
        }).weft.node.invite(id, { audience, name: "Bob" }),
      [space.id, bobDid],
    );
    await join(bob.page, invite);
    await bob.page.waitForSelector("#new-task-title");

    await ada.page.goto(`${d.daemon.url}/#/s/${space.id}/capabilities`);
    const row = ada.page.locator(`tr[data-audience="${bobDid}"]`);
    await row.locator("button", { hasText: "Revoke" }).click();
    const notice = await row.locator("[data-revoke-notice]").innerText();
    assert.match(notice, /Bob loses access now; their operations signed before this revocation stay/);
    assert.match(notice, /operations they sign later are refused by every node/);
    // Voiding what a stolen key signed is a separate, explicit choice that changes what the button says.
    await row.locator("input[type=checkbox]").check();
    await row.locator("input[type=datetime-local]").fill("2020-01-01T00:00");
    assert.match(await row.locator("[data-revoke-notice]").innerText(), /voided too, on every node/);
    assert.equal(await row.locator("button.danger").innerText(), "Revoke and void");
    await row.locator("input[type=checkbox]").uncheck();
    await shot(ada.page, "20-revoke-confirm");
    await row.locator("button.danger", { hasText: "Confirm revoke" }).click();
    await row.locator(".badge", { hasText: "revoked" }).waitFor();

    // Bob's tab learns it from the peer, and says so.
    const banner = bob.page.locator("[data-standing=removed]");
    await banner.waitFor({ timeout: 30_000 });
    // Ada's tab joined as a device, named after its browser.
    assert.match(await banner.innerText(), /You were removed from this space by Chromium on \S+ \(\S{4}\) on /);
    assert.match(await bob.page.locator(".conn-label").innerText(), /Not syncing — removed/);
    assert.equal(await bob.page.locator("#new-task-title").count(), 0, "no form to file tasks that cannot leave");
    assert.match(await bob.page.locator("p.hint", { hasText: "file tasks" }).innerText(), /removed from this space/);
    await shot(bob.page, "21-removed-member");
  });
});
