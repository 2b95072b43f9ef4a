/**
 * Pairing a browser with this peer in one click, as Jupyter's token URL
 * does: the peer mints a one-time code, prints it as a link to its own
 * dashboard (`/#/pair?code=…`, in the fragment so it never reaches a log),
 * and the dashboard redeems it with its own DID. The peer then signs each
 * space it can invite to over to that DID as a device. A code works once,
 * for a few minutes, and only in this process (a restart forgets it).
 */
import type { Space } from "#protocol/space";
import { encodeInvite } from "#protocol/space";
import { toBase64Url } from "#protocol";
import { Commands } from "#protocol/ucan";
import { HttpError } from "./errors.ts";

/** How long a pairing link works unless told otherwise. */
export const PAIRING_TTL_MS = 15 * 60_000;
/** Codes alive at once; minting more drops the oldest, so a loop of requests cannot grow the table. */
const MAX_LIVE = 16;

export class Pairings {
  readonly #live = new Map<string, number>();
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(options: { ttlMs?: number; now?: () => number } = {}) {
    this.#ttlMs = options.ttlMs ?? PAIRING_TTL_MS;
    this.#now = options.now ?? Date.now;
  }

  /** A fresh one-time code (256 random bits) and when it stops working (Unix ms). */
  mint(): { code: string; expiresAt: number } {
    const code = toBase64Url(crypto.getRandomValues(new Uint8Array(32)));
    const expiresAt = this.#now() + this.#ttlMs;
    this.#live.set(code, expiresAt);
    while (this.#live.size > MAX_LIVE) this.#live.delete(this.#live.keys().next().value!);
    return { code, expiresAt };
  }

  /** Use `code` up: throws 401 `pair/refused` if it is unknown, used or expired. */
  redeem(code: string): void {
    const expiresAt = this.#live.get(code);
    this.#live.delete(code);
    if (expiresAt === undefined || expiresAt <= this.#now()) {
      throw new HttpError(
        401,
        "pair/refused",
        "this pairing link was used already, has expired or belongs to an earlier run of the peer: " +
          "restart the peer (npm start prints a new link) or ask it for one (POST /v1/pairings)",
      );
    }
  }
}

/** The link a person opens to pair the browser, on the peer's own origin. */
export function pairingLink(origin: string, code: string): string {
  return `${origin}/#/pair?code=${code}`;
}

/**
 * Invites for `audience` as a device in every space the node `node` can invite to,
 * each naming the peer's sync endpoint so the browser dials it.
 */
export async function deviceInvites(
  node: string,
  spaces: readonly Space[],
  audience: string,
  name: string | undefined,
  syncUrl: string,
): Promise<string[]> {
  const invites: string[] = [];
  for (const space of spaces) {
    if (!space.authority.chainsFor(node, Commands.all, Math.floor(Date.now() / 1000)).length) continue;
    const { chain } = await space.invite({ audience, command: Commands.all, kind: "device", name });
    invites.push(
      encodeInvite({ space: space.id, url: space.url, tokens: chain.map((d) => d.bytes), peers: [syncUrl] }),
    );
  }
  if (invites.length === 0) {
    throw new HttpError(
      409,
      "pair/nothing",
      "this peer holds no space it may invite to; create one (weft space create)",
    );
  }
  return invites;
}
