/**
 * Signing in a space: find the chains from the space root to a principal
 * that cover a command, and sign an invocation with the first one whose
 * policies accept the arguments — checked here exactly as every other node
 * will check it, so what cannot verify elsewhere is refused before it is
 * written. The principal is this node, or a bridge acting as its own DID.
 */
import type { Signer } from "../identity/ed25519.ts";
import type { Delegation } from "../ucan/delegation.ts";
import { type Invocation, invoke } from "../ucan/invocation.ts";
import type { UcanError } from "../ucan/errors.ts";
import type { Ipld } from "../ucan/policy/ipld.ts";
import type { SpaceAuthority } from "./authority.ts";
import { Forbidden } from "./errors.ts";

/** Who is acting, as messages name it: "this node (did:key:…)" or a bridge's DID. */
export interface Actor {
  signer: Signer;
  label: string;
  /**
   * Only under a chain whose last delegation this DID issued: a bridge acting
   * for one person uses that person's delegation to it, never another's.
   */
  via?: string;
}

/** The chains `actor` can use for `command` at `now` (Unix seconds), shortest first; Forbidden if none. */
export function chainsOf(authority: SpaceAuthority, actor: Actor, command: string, now: number): Delegation[][] {
  const chains = authority.chainsFor(actor.signer.did, command, now)
    .filter((c) => actor.via === undefined || c[c.length - 1]?.iss === actor.via);
  if (chains.length === 0) {
    const from = actor.via === undefined ? "" : ` from ${actor.via}`;
    throw new Forbidden(`${actor.label} holds no delegation${from} for ${command} in space ${authority.space}`);
  }
  return chains;
}

/** Sign an invocation as `actor` with the first chain whose policies accept `args`. */
export async function signIn(
  authority: SpaceAuthority,
  actor: Actor,
  command: string,
  args: Record<string, Ipld>,
  now: number,
): Promise<Invocation> {
  let lastError: unknown;
  for (const chain of chainsOf(authority, actor, command, now)) {
    const inv = await invoke({
      issuer: actor.signer,
      subject: authority.space,
      command,
      args,
      proofs: chain,
      expiration: null,
      issuedAt: now,
    });
    authority.validator.trust(inv);
    try {
      await authority.validator.validate(inv);
      return inv;
    } catch (e) {
      lastError = e;
    }
  }
  const e = lastError as UcanError;
  throw new Forbidden(`not allowed to ${command}: ${e.message}`);
}
