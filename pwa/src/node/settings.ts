/**
 * The browser node's settings, one IndexedDB record each: the peers and
 * relays it keeps connected to, the space last opened, joins still waiting
 * for a member, and whether this tab offers WASM capacity.
 */
import type { WeftDb } from "./db.ts";

export interface PeerSetting {
  /** ws:// or wss:// URL of a peer's or relay's /v1/sync endpoint. */
  url: string;
  /** An edge relay: it carries the spaces we prove, without being a member. */
  carrier: boolean;
}

export interface PendingJoin {
  space: string;
  /** Unix ms when the invite was accepted here. */
  since: number;
}

export interface Settings {
  peers: PeerSetting[];
  space?: string;
  joins: PendingJoin[];
  /** Whether this tab offers its capacity for WASM jobs (see offer.ts). */
  offer: boolean;
}

const DEFAULTS: Settings = { peers: [], joins: [], offer: false };

export async function loadSettings(db: WeftDb): Promise<Settings> {
  const out: Settings = { ...DEFAULTS };
  const tx = db.transaction("settings");
  for (const key of Object.keys(DEFAULTS).concat("space") as (keyof Settings)[]) {
    const value = await tx.store.get(key);
    if (value !== undefined) (out as unknown as Record<string, unknown>)[key] = value;
  }
  await tx.done;
  return out;
}

export async function saveSetting<K extends keyof Settings>(db: WeftDb, key: K, value: Settings[K]): Promise<void> {
  await db.put("settings", value, key);
}
