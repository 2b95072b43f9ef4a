/**
 * Sync tokens for stock automerge-repo clients that reconnect for hours.
 * A stock client puts its token in the WebSocket URL and reconnects with the
 * same URL after every blip, so a one-use, ten-minute bearer ends it at the
 * first one. A sync token instead is an invocation of /weft/space/sync by a
 * throwaway key, to which this node delegates sync under `meta.kind`
 * "sync-token", with that delegation recorded in the space: it may be used
 * again until it expires, it is listed with the space's capabilities, and
 * revoking its delegation closes the sessions on it (the live-revocation
 * re-check) and refuses it from then on.
 */
import type { Space } from "#protocol/space";
import { generateSeed, type Signer, signerFromSeed } from "#protocol/identity";
import { Commands, delegate, type Delegation, encodeContainer, invoke } from "#protocol/ucan";
import { HttpError } from "./errors.ts";
import { boundExpiry } from "./grant.ts";
import { requestArgs } from "./request.ts";

/** What `meta.kind` says on the delegation behind a sync token. */
export const SYNC_TOKEN_KIND = "sync-token";
/** How long a sync token lives unless asked otherwise (and its caller's chain allows). */
export const DEFAULT_SYNC_TOKEN_SECONDS = 12 * 3600;
/** The longest a sync token may live: a leaked one is bounded even if nobody revokes it. */
export const MAX_SYNC_TOKEN_SECONDS = 30 * 24 * 3600;

export interface SyncToken {
  /** The `?token=` value for `/v1/sync`. */
  token: string;
  /** The delegation to revoke (`DELETE /v1/spaces/:space/capabilities/:cid`) to end it. */
  cid: string;
  /** Unix seconds; the token works through this second. */
  expiration: number;
}

/**
 * Mint a sync token for `space`, signed by `node` on its own chain and
 * bounded by the caller's (`held`, root first): it never outlives it.
 */
export async function mintSyncToken(
  space: Space,
  node: Signer,
  held: readonly Delegation[],
  asked: { expiration?: number; name?: string },
): Promise<SyncToken> {
  const now = Math.floor(Date.now() / 1000);
  if (asked.expiration !== undefined && asked.expiration <= now) {
    throw new HttpError(400, "input/expiration", "the expiration is in the past: name a later Unix time");
  }
  if (asked.expiration !== undefined && asked.expiration > now + MAX_SYNC_TOKEN_SECONDS) {
    throw new HttpError(
      400,
      "input/expiration",
      `a sync token lives at most ${MAX_SYNC_TOKEN_SECONDS / 86400} days; ask for an earlier expiration`,
    );
  }
  const chainLimit = boundExpiry(held, asked.expiration);
  const expiration = asked.expiration ?? Math.min(now + DEFAULT_SYNC_TOKEN_SECONDS, chainLimit ?? Infinity);
  const [chain] = space.authority.chainsFor(node.did, Commands.spaceSync, now);
  if (!chain) throw new HttpError(403, "cap/not-held", `this node no longer holds ${Commands.spaceSync} here`);
  const key = await signerFromSeed(generateSeed());
  const d = await delegate({
    issuer: node,
    audience: key.did,
    subject: space.id,
    command: Commands.spaceSync,
    policy: held.flatMap((x) => x.pol.source),
    expiration,
    meta: { kind: SYNC_TOKEN_KIND, ...(asked.name ? { name: asked.name } : {}) },
  });
  await space.addDelegations([...chain, d]);
  const inv = await invoke({
    issuer: key,
    audience: node.did,
    subject: space.id,
    command: Commands.spaceSync,
    args: requestArgs("GET", "/v1/sync"),
    proofs: [...chain, d],
    expiration,
  });
  const token = await encodeContainer([inv.bytes, ...chain.map((x) => x.bytes), d.bytes], "C") as string;
  return { token, cid: d.cid.toString(), expiration };
}

/**
 * Whether a validated sync invocation rests on a recorded sync-token
 * delegation made for its very issuer (and does not outlive it): such a
 * token may be used again until it expires.
 */
export function isStandingSyncToken(
  space: Space,
  invocation: { iss: string; exp: number | null },
  proofs: readonly Delegation[],
): boolean {
  const last = proofs[proofs.length - 1];
  if (!last || last.meta?.kind !== SYNC_TOKEN_KIND || last.aud !== invocation.iss) return false;
  if (last.exp === null || invocation.exp === null || invocation.exp > last.exp) return false;
  return space.authority.delegation(last.cid) !== undefined;
}
