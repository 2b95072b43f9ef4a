/** Formatting for people: short DIDs and ids, names instead of keys, times relative to now. */
import type { Space } from "#protocol/space";

export function shortDid(did: string): string {
  return did.length > 20 ? `${did.slice(8, 12)}…${did.slice(-6)}` : did;
}

/** Display names of a space's members by DID (from their delegations' meta). */
export function namesOf(space: Space): Map<string, string> {
  const names = new Map<string, string>();
  for (const m of space.members()) if (m.name) names.set(m.did, m.name);
  names.set(space.id, `${space.name || "space"} root`);
  return names;
}

export function who(did: string, names: Map<string, string>, me: string): string {
  if (did === me) return "you";
  return names.get(did) ?? shortDid(did);
}

export function dateTime(ms: number): string {
  return new Date(ms).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });
}

export function ago(ms: number, now = Date.now()): string {
  const s = Math.round((now - ms) / 1000);
  if (s < -1) return `in ${until(ms, now)}`;
  if (s < 5) return "just now";
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

export function until(ms: number, now = Date.now()): string {
  const s = Math.max(0, Math.round((ms - now) / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

export function mb(n: number): string {
  return n >= 1024 ? `${(n / 1024).toFixed(1)} GB` : `${n} MB`;
}
