/**
 * The signatures a browser remembers having verified (protocol/identity
 * RememberingVerifier, pwa/src/node/verified-store.ts) in Debian's Chromium
 * against a real peer daemon: a reload answers from memory what this device
 * verified before, yet an operation in its store whose signature was lifted
 * from one it verified is checked and refused, and a record of verified
 * signatures changed in IndexedDB is refused (and the user told), so a
 * tampered store never shows as verified.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { type TestDaemon, testDaemon } from "../helpers/daemon.ts";
import { eventually } from "../helpers/nodes.ts";
import { appReady, joinByNode, openProfile, type Profile } from "./chromium.ts";
import { ensurePwaBuilt } from "./pwa-build.ts";
import { cidOf } from "../../protocol/codec/cid.ts";
import { rememberedDigest } from "../../protocol/identity/remembering-verifier.ts";
import type { Signer } from "../../protocol/identity/ed25519.ts";
import type { BucketDoc } from "../../protocol/space/docs.ts";
import { decodeEnvelope } from "../../protocol/ucan/envelope.ts";
import { decodeInvocation, invoke } from "../../protocol/ucan/invocation.ts";
import type { Ipld } from "../../protocol/ucan/policy/ipld.ts";

const TASKS = 20;

type Counts = { remembered: number; checked: number };
type W = {
  weft: {
    verified: { counts: Counts; size: number };
    db: { get(store: string, key: string): Promise<{ digests: Uint8Array } | undefined> };
    node: {
      repo: {
        find(id: string): Promise<{ change(f: (d: BucketDoc) => void): void }>;
        flush(): Promise<void>;
      };
      space(id: string): { documentIds: string[]; log: { size: number } } | undefined;
    };
  };
};

const counts = (page: Page) => page.evaluate(() => ({ ...(globalThis as unknown as W).weft.verified.counts }));

/** Put `bytes` under `cid` into one of the space's bucket documents in the browser's own store. */
async function plant(page: Page, space: string, cid: string, bytes: Uint8Array): Promise<void> {
  await page.evaluate(async ({ space, cid, bytes }) => {
    const node = (globalThis as unknown as W).weft.node;
    const handle = await node.repo.find(node.space(space)!.documentIds[1]);
    handle.change((d) => {
      d.ops[cid] = new Uint8Array(bytes);
    });
    await node.repo.flush();
  }, { space, cid, bytes: [...bytes] });
}

/** Change the kept record of verified signatures with the app closed (so it cannot save over it). */
async function editVerified(page: Page, url: string, append: Uint8Array): Promise<void> {
  await page.goto("about:blank");
  await page.goto(`${url}/manifest.webmanifest`);
  await page.evaluate(async (append) => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const r = indexedDB.open("weft");
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
    const stored = await new Promise<{ digests: Uint8Array; signature: Uint8Array }>((resolve, reject) => {
      const r = db.transaction("settings").objectStore("settings").get("verified");
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
    const digests = new Uint8Array([...stored.digests, ...append]);
    await new Promise<void>((resolve, reject) => {
      const tx = db.transaction("settings", "readwrite");
      tx.objectStore("settings").put({ digests, signature: stored.signature }, "verified");
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
    });
    db.close();
  }, [...append]);
}

const taskTitles = (page: Page) =>
  page.evaluate(() => [...document.querySelectorAll("tr[data-task]")].map((r) => r.textContent ?? "").join("\n"));

describe("the signatures a browser remembers verifying", { timeout: 240_000 }, () => {
  let d: TestDaemon;
  let p: Profile;
  let spaceId = "";
  /** A create operation by the daemon that the browser verified. */
  let genuine: Uint8Array;
  /** The genuine operation with another task and title under its lifted signature (planted by the second test). */
  let forged: { cid: string; bytes: Uint8Array };

  before(async () => {
    ensurePwaBuilt();
    d = await testDaemon();
    const space = await d.daemon.node.createSpace("remembered");
    spaceId = space.id;
    for (let i = 0; i < TASKS; i++) await space.createTask({ title: `kept task ${i}` });
    for (const id of space.documentIds.slice(1)) {
      const ops = (await d.daemon.node.repo.find<BucketDoc>(id)).doc().ops;
      const create = Object.values(ops).find((b) => decodeInvocation(b).cmd === "/weft/task/create");
      if (create) {
        genuine = create;
        break;
      }
    }
    p = await openProfile();
    await p.page.goto(d.daemon.url);
    await appReady(p.page);
    const invite = await d.daemon.node.invite(space.id);
    await joinByNode(p.page, invite);
    // The app keeps what it verified a moment after the space changes: wait for a record covering every task.
    await eventually(
      () =>
        p.page.evaluate(async (n) => {
          const weft = (globalThis as unknown as W).weft;
          const kept = (await weft.db.get("settings", "verified"))?.digests.length ?? 0;
          if (kept / 16 < n) throw new Error(`${kept / 16} signatures kept`);
          return true;
        }, TASKS),
      60_000,
      "the record of verified signatures",
    );
  });

  after(async () => {
    await p?.close();
    await d?.stop();
  });

  /** The genuine operation with its task and title changed, signed by `issuer` (its payload otherwise the same). */
  async function variant(issuer: Signer, task: string, title: string): Promise<{ cid: string; bytes: Uint8Array }> {
    const inv = decodeInvocation(genuine);
    const changed = await invoke({
      issuer,
      subject: inv.sub,
      command: inv.cmd,
      args: { ...inv.args, task, title } as Record<string, Ipld>,
      proofs: inv.prf,
      expiration: inv.exp ?? null,
      issuedAt: inv.iat,
    });
    return { cid: cidOf(changed.bytes).toString(), bytes: changed.bytes };
  }

  /** The daemon's DID with the signature of the genuine operation, whatever it is asked to sign. */
  const lifted = (): Signer => ({
    ...d.daemon.node.signer,
    sign: () => Promise.resolve(decodeEnvelope(genuine).signature),
  });

  it("answers from memory what this browser verified before, and checks what it did not", async () => {
    await p.page.reload();
    await appReady(p.page);
    const c = await counts(p.page);
    assert.ok(c.remembered >= TASKS, `remembered ${c.remembered}`);
    assert.ok(c.checked < c.remembered, `checked ${c.checked} anew, remembered ${c.remembered}`);
    assert.match(await taskTitles(p.page), /kept task 7/);
    // What is not remembered is checked off the page's thread (pwa/src/verify/).
    assert.ok(p.page.workers().some((w) => /\/worker-[\w-]+\.js$/.test(w.url())), "a verifying worker runs");
  });

  it("refuses an operation in its store whose signature was lifted from one it verified", async () => {
    forged = await variant(lifted(), "forgedforgedfrgd", "FORGED task");
    const control = await variant(d.daemon.node.signer, "controlcontrolct", "CONTROL task");
    await plant(p.page, spaceId, forged.cid, forged.bytes);
    await plant(p.page, spaceId, control.cid, control.bytes);
    await p.page.reload();
    await appReady(p.page);
    // The same change, signed for real, is taken: only the signature keeps the forged one out.
    await p.page.locator("tr", { hasText: "CONTROL task" }).first().waitFor();
    assert.doesNotMatch(await taskTitles(p.page), /FORGED task/);
    assert.ok((await counts(p.page)).remembered >= TASKS, "the rest came from memory");
  });

  it("refuses a record of verified signatures changed in IndexedDB, verifies everything anew, and says so", async () => {
    const digest = decodeEnvelope(forged.bytes).cid.multihash.digest;
    await editVerified(p.page, d.daemon.url, rememberedDigest(d.daemon.node.did, digest));
    await p.page.goto(d.daemon.url);
    await appReady(p.page);
    await p.page.locator("[role=alert]", {
      hasText: "record of the signatures it verified before was not used: its signature is not this device's",
    }).waitFor();
    const c = await counts(p.page);
    assert.equal(c.remembered, 0, "nothing was answered from the changed record");
    assert.ok(c.checked > TASKS);
    await p.page.locator("tr", { hasText: "kept task 7" }).first().waitFor();
    assert.doesNotMatch(await taskTitles(p.page), /FORGED task/);
  });
});
