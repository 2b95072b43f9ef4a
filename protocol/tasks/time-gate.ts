/**
 * The one place a node's own clock meets an author's: no operation dated
 * beyond a small skew ahead of this node's clock is applied. One a little
 * ahead waits until its time comes (every node applies it then, so all
 * converge); one absurdly far ahead (the year 2100) is refused outright.
 */

/** How far ahead of this node's clock an operation may be dated and still apply now. */
export const MAX_SKEW_MS = 30_000;
/** Beyond this, an operation is refused rather than held. */
export const MAX_AHEAD_MS = 24 * 60 * 60 * 1000;

export type TimeVerdict =
  | { ok: true }
  | { ok: false; wait: number }
  | { ok: false; refuse: string };

export function judgeTime(atMs: number, nowMs: number): TimeVerdict {
  const ahead = atMs - nowMs;
  if (ahead <= MAX_SKEW_MS) return { ok: true };
  if (ahead > MAX_AHEAD_MS) {
    return { ok: false, refuse: `dated ${new Date(atMs).toISOString()}, more than a day ahead of this node's clock` };
  }
  return { ok: false, wait: ahead - MAX_SKEW_MS };
}
