/**
 * Forcing an operation past the UI: an invocation signed by a browser
 * profile's own non-extractable key (the page signs the bytes it is
 * handed) with the delegation chain it really holds, but for a command
 * that chain does not cover. What every verifier must refuse.
 */
import type { Page } from "playwright-core";
import type { Signer } from "../../protocol/identity/ed25519.ts";
import { publicKeyFromDid } from "../../protocol/identity/did-key.ts";
import type { Space } from "../../protocol/space/space.ts";
import { Commands } from "../../protocol/ucan/commands.ts";
import { type Invocation, invoke } from "../../protocol/ucan/invocation.ts";

type Weft = { weft: { did: string; node: { signer: { sign(m: Uint8Array): Promise<Uint8Array> } } } };

/** A Signer whose key stays in the page. */
export async function pageSigner(page: Page): Promise<Signer> {
  const did = await page.evaluate(() => (globalThis as unknown as Weft).weft.did);
  return {
    did,
    publicKey: publicKeyFromDid(did),
    sign: async (message) =>
      new Uint8Array(
        await page.evaluate(
          async (m) => [...await (globalThis as unknown as Weft).weft.node.signer.sign(new Uint8Array(m))],
          [...message],
        ),
      ),
  };
}

/** A `command` on `task` signed by the page's key, proved by the chain `space` knows for it (sync only). */
export async function forgeInBrowser(page: Page, space: Space, task: string, command: string): Promise<Invocation> {
  const signer = await pageSigner(page);
  const now = Date.now();
  const [chain] = space.authority.chainsFor(signer.did, Commands.spaceSync, Math.floor(now / 1000));
  if (!chain) throw new Error(`${signer.did} holds no chain in ${space.id}`);
  const t = space.task(task)!;
  return await invoke({
    issuer: signer,
    subject: space.id,
    command,
    args: { task, fence: t.fence + 1, expires: now + 60_000, at: [now, 0] },
    proofs: chain,
    expiration: null,
    issuedAt: Math.floor(now / 1000),
  });
}
