/**
 * Debian's Chromium under playwright-core, one fresh profile (user data
 * dir) per simulated person, with the flags this machine needs (without the
 * background-networking ones, Chromium's own connections get refused here).
 * Console errors and uncaught exceptions are collected per page.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join as joinPath } from "node:path";
import { fileURLToPath } from "node:url";
import { type BrowserContext, chromium, type Page } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export interface Profile {
  context: BrowserContext;
  page: Page;
  /** Console errors and page errors, with whether they happened while the profile was offline on purpose. */
  errors: { text: string; offline: boolean }[];
  setOffline(offline: boolean): Promise<void>;
  close(): Promise<void>;
}

export async function openProfile(viewport = { width: 1280, height: 860 }): Promise<Profile> {
  const dir = await mkdtemp(joinPath(tmpdir(), "weft-chromium-"));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
    headless: true,
    viewport,
  });
  const page = context.pages()[0] ?? await context.newPage();
  page.setDefaultTimeout(30_000);
  let offline = false;
  const errors: Profile["errors"] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push({ text: m.text(), offline });
  });
  page.on("pageerror", (e) => errors.push({ text: `${e.name}: ${e.message}`, offline }));
  return {
    context,
    page,
    errors,
    async setOffline(value) {
      if (value) offline = true;
      await context.setOffline(value);
      offline = value;
    },
    async close() {
      await context.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Wait until the app has opened its node and rendered (a space of 50,000 tasks takes longer than the default). */
export async function appReady(page: Page, timeout = 60_000): Promise<void> {
  await page.waitForFunction(() => document.documentElement.dataset.ready === "true", undefined, { timeout });
}

/** Where the browser tests put their screenshots. */
export const SHOTS = fileURLToPath(new URL("./screenshots/", import.meta.url));

/** A full-page screenshot, `<name>.png` in SHOTS. */
export const shot = (page: Page, name: string) => page.screenshot({ path: `${SHOTS}${name}.png`, fullPage: true });

/** The DID of the browser node on `page`. */
export const did = (page: Page) => page.evaluate(() => (globalThis as unknown as { weft: { did: string } }).weft.did);

/** Join the space of `invite` from the join page, and wait for its task list. */
export async function join(page: Page, invite: string): Promise<void> {
  await page.fill("#invite-text", invite);
  await page.click("form[aria-labelledby=join-title] button[type=submit]");
  await page.waitForSelector("#tasks-title", { timeout: 60_000 });
}

/** Join the space of `invite` through the app's node, without the join page (a large space's task list takes long). */
export async function joinByNode(page: Page, invite: string): Promise<void> {
  await page.evaluate(async (invite) => {
    await (globalThis as unknown as { weft: { join(i: string): Promise<unknown> } }).weft.join(invite);
  }, invite);
}
