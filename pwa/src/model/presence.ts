/**
 * Who is around: a space's members (people, devices, agents) with whether
 * they are online — this device, a peer with a live sync session, or a
 * node whose capacity advert has not expired — their version (from its
 * advert) and when this node last saw a sign of them (a signed operation,
 * an advert, a session).
 */
import type { LiveAdvert } from "#protocol/capacity";
import type { Member, Space } from "#protocol/space";

export interface Presence extends Member {
  online: boolean;
  /** Why it counts as online. */
  via?: "this device" | "sync session" | "capacity advert";
  version?: string;
  lastSeen?: number;
}

export interface PresenceSources {
  me: string;
  /** DIDs with a live sync session to this node. */
  connected: ReadonlySet<string>;
  /** Unix ms a session with each DID was last up. */
  sessions: ReadonlyMap<string, number>;
  adverts: readonly LiveAdvert[];
  now: number;
}

/** The newest operation time of each author in the space. */
export function lastOperations(space: Space): Map<string, number> {
  const last = new Map<string, number>();
  for (const t of space.log.reducer.tasks.values()) {
    for (const h of t.history) if (h.at[0] > (last.get(h.author) ?? 0)) last.set(h.author, h.at[0]);
  }
  return last;
}

export function presence(space: Space, src: PresenceSources, lastOp: ReadonlyMap<string, number>): Presence[] {
  const adverts = new Map(src.adverts.filter((a) => a.expires > src.now).map((a) => [a.node, a]));
  return space.members().map((m) => {
    const advert = adverts.get(m.did);
    const via = m.did === src.me
      ? "this device"
      : src.connected.has(m.did)
      ? "sync session"
      : advert
      ? "capacity advert"
      : undefined;
    const seen = [lastOp.get(m.did), advert?.at, src.sessions.get(m.did), via ? src.now : undefined]
      .filter((n): n is number => n !== undefined);
    return {
      ...m,
      online: via !== undefined,
      ...(via ? { via } : {}),
      ...(advert ? { version: advert.version } : {}),
      ...(seen.length ? { lastSeen: Math.max(...seen) } : {}),
    };
  });
}
