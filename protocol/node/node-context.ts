/**
 * What the parts of a node (its sync authority, gossip, blob hops, joining,
 * relay mode and restore) share: its identity, clock, repo, the spaces it
 * holds and its transports. One object, handed to each part, so no part
 * reaches into another's state.
 */
import type { Repo } from "@automerge/automerge-repo";
import type { Diagnostics } from "../diagnostics.ts";
import type { Signer, Verifier } from "../identity/ed25519.ts";
import type { Space, SpaceDeps } from "../space/space.ts";
import type { SessionNetworkAdapter } from "../sync/session-adapter.ts";
import type { SyncSession } from "../sync/session.ts";
import { MemoryProofStore } from "../ucan/stores.ts";
import { Validator } from "../ucan/validator.ts";

export interface NodeContext {
  readonly did: string;
  readonly signer: Signer;
  readonly repo: Repo;
  readonly diagnostics: Diagnostics;
  /** Wall clock in Unix ms. */
  readonly now: () => number;
  readonly verifier?: Verifier;
  /** The spaces this node holds, by DID. */
  readonly spaces: Map<string, Space>;
  /** The sync transports added so far. */
  readonly adapters: readonly SessionNetworkAdapter[];
  /** Whether the node has begun stopping. */
  stopped(): boolean;
  /** What a Space opened on this node is given. */
  deps(): SpaceDeps;
}

/** Every authenticated session on every transport, except `except`. */
export function sessionsOf(ctx: NodeContext, except?: SyncSession): SyncSession[] {
  const out: SyncSession[] = [];
  for (const a of ctx.adapters) for (const s of a.sessions.values()) if (s !== except) out.push(s);
  return out;
}

/** A validator that knows nothing but what a proof carries: its chain must start at the space's root. */
export function rootValidator(ctx: NodeContext): Validator {
  return new Validator({
    proofs: new MemoryProofStore(),
    verifier: ctx.verifier,
    clock: () => Math.floor(ctx.now() / 1000),
  });
}
