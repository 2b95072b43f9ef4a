/**
 * A node's answers to its sync sessions (the SyncAuthority): proofs that it
 * may sync each space it holds or is joining, bound to the remote's
 * challenge; checking a remote's proof against the space's own validator
 * (or, as a relay, against the root alone); the revocation records that cut
 * a remote off, and applying those a remote says cut this node off.
 */
import { isWeftError } from "../errors.ts";
import { chainExpiry, standingOf } from "../space/standing.ts";
import { proveSync, verifySync } from "../space/sync-proof.ts";
import type { SyncAuthority } from "../sync/sync-authority.ts";
import { Commands } from "../ucan/commands.ts";
import type { AuthorityChanges } from "./authority-changes.ts";
import type { Joining } from "./joining.ts";
import type { NodeContext } from "./node-context.ts";
import type { RelayMode } from "./relay-mode.ts";
import type { SharePolicy } from "./share-policy.ts";

export function nodeSyncAuthority(ctx: NodeContext, parts: {
  joining: Joining;
  share: SharePolicy;
  changes: AuthorityChanges;
  /** Set on a relay: proofs for spaces it does not hold are checked against their root. */
  relay?: RelayMode;
}): SyncAuthority {
  const { joining, share, changes, relay } = parts;
  const nowSec = () => Math.floor(ctx.now() / 1000);
  return {
    prove: async (challenge, remoteDid) => {
      const out: Array<{ space: string; proof: Uint8Array }> = [];
      for (const space of ctx.spaces.values()) {
        const [chain] = space.authority.chainsFor(ctx.did, Commands.spaceSync, nowSec());
        if (chain) {
          out.push({
            space: space.id,
            proof: await proveSync(ctx.signer, space.id, space.url, chain, challenge, remoteDid),
          });
        }
      }
      for (const [id, j] of joining.pending) {
        if (!ctx.spaces.has(id)) {
          out.push({ space: id, proof: await proveSync(ctx.signer, id, j.invite.url, j.chain, challenge, remoteDid) });
        }
      }
      return out;
    },
    offers: (id) => {
      const space = ctx.spaces.get(id);
      if (!space) return joining.pending.has(id);
      return space.authority.chainsFor(ctx.did, Commands.spaceSync, nowSec()).length > 0;
    },
    verify: async (proof, challenge, localDid, remoteDid) => {
      const { space, chain, doc } = await verifySync(
        proof,
        { challenge, localDid, remoteDid },
        (id) =>
          ctx.spaces.get(id)?.authority.validator ?? joining.pending.get(id)?.validator ?? relay?.validatorFor(id),
      );
      if (relay) {
        if (!ctx.spaces.has(space) && doc) void relay.host(space, doc);
      } else {
        // Keep the member's chain, so its operations verify here too.
        await ctx.spaces.get(space)?.addDelegations(chain);
      }
      const expiry = chainExpiry(chain);
      // Valid through its `exp` second: re-checked just after it.
      return { space, lapsesInMs: expiry === null ? null : (expiry + 1) * 1000 - ctx.now() };
    },
    revocationsOf: (id, remoteDid) => {
      const space = ctx.spaces.get(id);
      if (!space) return [];
      const standing = standingOf(space.authority, remoteDid, Commands.spaceSync, ctx.now());
      return standing.state === "revoked" ? standing.records : [];
    },
    learnRevocations: async (id, records, from) => {
      const space = ctx.spaces.get(id);
      if (!space) return;
      for (const bytes of records) {
        try {
          await space.recordRevocation(bytes);
        } catch (e) {
          ctx.diagnostics.refuse({
            kind: "sync",
            from,
            what: "revoked",
            code: isWeftError(e) ? e.code : "sync/revocation",
            reason: (e as Error).message,
            space: id,
          });
        }
      }
    },
    spaceOf: (documentId) => share.spaceOf(documentId),
    onChange: (listener) => changes.onChange(listener),
  };
}
