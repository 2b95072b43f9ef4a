/**
 * Inviting to and joining a space: the invite text, the chain this node proves membership
 * with (a link invite's one-time key passes its authority on to the node),
 * the spaces joined but not fetched yet, and fetching each space document
 * as soon as a peer that accepted the node's proof shares it.
 */
import type { AutomergeUrl } from "@automerge/automerge-repo";
import { WeftError } from "../errors.ts";
import { signerFromSeed } from "../identity/ed25519.ts";
import { encodeInvite, type Invite } from "../space/invite.ts";
import type { Ipld } from "../ucan/policy/ipld.ts";
import { Space } from "../space/space.ts";
import { decodeDelegation, delegate, type Delegation } from "../ucan/delegation.ts";
import type { Validator } from "../ucan/validator.ts";
import { type NodeContext, rootValidator, sessionsOf } from "./node-context.ts";
import type { SharePolicy } from "./share-policy.ts";

export interface InviteOptions {
  /** Who is invited (a DID); none: a link invite carrying a one-time key. */
  audience?: string;
  command?: string;
  policy?: Ipld[];
  expiration?: number | null;
  name?: string;
  /** Addresses of peers to dial, carried in the invite. */
  peers?: string[];
}

/**
 * Invite someone to `space`: an addressed invite for a known DID, or (no
 * audience) a link invite carrying a one-time key. Returns the invite text.
 */
export async function inviteText(space: Space, options: InviteOptions = {}): Promise<string> {
  let seed: Uint8Array | undefined;
  let audience = options.audience;
  if (audience === undefined) {
    seed = crypto.getRandomValues(new Uint8Array(32));
    audience = (await signerFromSeed(seed)).did;
  }
  const { chain } = await space.invite({
    audience,
    command: options.command,
    policy: options.policy,
    expiration: options.expiration,
    name: options.name ?? (seed ? "invite link" : undefined),
  });
  return encodeInvite({
    space: space.id,
    url: space.url,
    tokens: chain.map((d) => d.bytes),
    ...(seed ? { seed } : {}),
    ...(options.peers ? { peers: options.peers } : {}),
  });
}

/** A space joined and not yet fetched. */
export interface PendingJoin {
  invite: Invite;
  /** The chain to prove membership with. */
  chain: Delegation[];
  /** Knows only the root DID: checks peers that serve the space. */
  validator: Validator;
}

/** The chain `did` joins with: the invite's, extended to `did` by a link invite's one-time key. */
export async function memberChain(invite: Invite, did: string, name?: string): Promise<Delegation[]> {
  const chain = invite.tokens.map((t) => decodeDelegation(t));
  const last = chain[chain.length - 1];
  if (!invite.seed) {
    if (last.aud !== did) {
      throw new WeftError("InvalidInvite", "invite/invalid", `this invite is for ${last.aud}, not this node`);
    }
    return chain;
  }
  const inviteKey = await signerFromSeed(invite.seed);
  if (last.aud !== inviteKey.did) {
    throw new WeftError("InvalidInvite", "invite/invalid", "the invite key does not match");
  }
  const toMe = await delegate({
    issuer: inviteKey,
    audience: did,
    subject: invite.space,
    command: last.cmd,
    expiration: last.exp,
    meta: { kind: "member", ...(name ? { name } : {}) },
  });
  return [...chain, toMe];
}

export class Joining {
  readonly #ctx: NodeContext;
  readonly #share: SharePolicy;
  readonly #adopt: (space: Space, chain: Delegation[]) => Promise<void>;
  readonly #pending = new Map<string, PendingJoin>();
  readonly #waiters = new Map<string, Array<(s: Space) => void>>();
  readonly #fetching = new Set<string>();

  /** `adopt`: make a fetched space one of the node's (it calls `arrived` when done). */
  constructor(ctx: NodeContext, share: SharePolicy, adopt: (space: Space, chain: Delegation[]) => Promise<void>) {
    this.#ctx = ctx;
    this.#share = share;
    this.#adopt = adopt;
  }

  /** The spaces joined and not fetched yet. */
  get pending(): ReadonlyMap<string, PendingJoin> {
    return this.#pending;
  }

  /** Wait for a space's document, proving membership with `chain` meanwhile. */
  start(invite: Invite, chain: Delegation[]): void {
    this.#pending.set(invite.space, { invite, chain, validator: rootValidator(this.#ctx) });
    this.#share.registerDocument(invite.url.replace(/^automerge:/, ""), invite.space);
  }

  /** The space is the node's now: stop proving it as a join. */
  drop(id: string): void {
    this.#pending.delete(id);
  }

  /** The space is ready: resolve whoever waits for it. */
  arrived(space: Space): void {
    for (const resolve of this.#waiters.get(space.id) ?? []) resolve(space);
    this.#waiters.delete(space.id);
  }

  /** Resolves with the space once it is the node's, or rejects when `signal` aborts. */
  wait(id: string, signal?: AbortSignal): Promise<Space> {
    const ready = this.#ctx.spaces.get(id);
    if (ready) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      const list = this.#waiters.get(id) ?? [];
      list.push(resolve);
      this.#waiters.set(id, list);
      signal?.addEventListener("abort", () => reject(signal.reason), { once: true });
      void this.fetchShared([id]);
    });
  }

  /** A peer shares these spaces with us now: fetch any we joined but do not have yet. */
  async fetchShared(spaces: readonly string[]): Promise<void> {
    for (const id of spaces) {
      const j = this.#pending.get(id);
      if (!j || this.#ctx.spaces.has(id) || this.#fetching.has(id)) continue;
      if (!sessionsOf(this.#ctx).some((s) => s.shared.has(id))) continue;
      this.#fetching.add(id);
      try {
        const space = await Space.open(this.#ctx.deps(), j.invite.url as AutomergeUrl, {
          signal: AbortSignal.timeout(30_000),
        });
        await this.#adopt(space, j.chain);
      } catch (e) {
        this.#ctx.diagnostics.refuse({
          kind: "sync",
          what: `space ${id}`,
          code: "space/fetch-failed",
          reason: String(e),
        });
      } finally {
        this.#fetching.delete(id);
      }
    }
  }
}
