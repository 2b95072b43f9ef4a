/**
 * Changing the saved view (pwa/src/node/snapshot.ts) in IndexedDB from a
 * test, with the app closed and its node lock released (so it cannot save
 * over the change): as an
 * attacker would (the record changed, its signature left as it was), or as
 * this device itself would (`resign`: signed with its key for what it is,
 * as an older view than the space, or one its software got wrong).
 */
import type { Page } from "playwright-core";

/**
 * `edit` gets the record's JSON (or `base`, a JSON kept earlier) and returns
 * the new JSON; `did`: the browser's device DID.
 */
export async function editSaved(
  page: Page,
  url: string,
  did: string,
  edit: (json: string) => string,
  resign: boolean,
  base?: string,
): Promise<void> {
  await page.goto("about:blank");
  // A page of the origin where the app does not start (the service worker serves the app for every other one).
  await page.goto(`${url}/healthz`);
  await page.evaluate(async ({ source, resign, did, base }) => {
    const edit = new Function(`return (${source})`)() as (json: string) => string;
    // The app is gone once its node lock is released: no save of its can land after the change.
    while ((await navigator.locks.query()).held?.length) await new Promise((r) => setTimeout(r, 20));
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const r = indexedDB.open("weft");
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
    const get = <T>(store: string, key: string) =>
      new Promise<T>((resolve, reject) => {
        const r = db.transaction(store).objectStore(store).get(key);
        r.onsuccess = () => resolve(r.result as T);
        r.onerror = () => reject(r.error);
      });
    const stored = await get<{ json: string; signature: Uint8Array }>("settings", "view");
    const json = edit(base ?? stored.json);
    let signature = stored.signature;
    if (resign) {
      const key = await get<{ privateKey: CryptoKey }>("keys", "device");
      const bytes = new TextEncoder().encode(`weft/saved-view/2 ${did}\n${json}`);
      signature = new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, key.privateKey, bytes));
    }
    await new Promise<void>((resolve, reject) => {
      const tx = db.transaction("settings", "readwrite");
      tx.objectStore("settings").put({ json, signature }, "view");
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
    });
    db.close();
  }, { source: edit.toString(), resign, did, base });
}

/** The saved view as kept now, or undefined; read through the open app's node. */
export function savedRecord(page: Page): Promise<{ json: string; signature: Uint8Array } | undefined> {
  return page.evaluate(() => {
    type Stored = { json: string; signature: Uint8Array };
    type Db = { get(store: string, key: string): Promise<Stored | undefined> };
    return (globalThis as unknown as { weft: { db: Db } }).weft.db.get("settings", "view");
  });
}

/** The saved view as kept now (parsed), or undefined. */
export async function savedView(page: Page): Promise<{ total: number; heads: string[] } | undefined> {
  const stored = await savedRecord(page);
  return stored ? JSON.parse(stored.json) : undefined;
}
