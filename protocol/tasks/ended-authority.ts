/**
 * Whether an operation's authority stands, judged causally rather than by
 * the time its author wrote (see protocol/README.md, "Time").
 *
 * The chain is first checked at the operation's own time (the log does it).
 * Then, for every link that has ended — expired, or revoked — :
 *  - revoked, and the revoker had seen the operation (it is in the causal
 *    past of the revocation): it stands — revocation keeps honest past work;
 *  - revoked with "void since T", and dated at or after T: voided;
 *  - dated at or after the revocation: refused, whatever it claims;
 *  - otherwise it claims to predate the end. A fully offline signer can do
 *    exactly that, and so can a thief: it stands only if a member not
 *    relying on the ended link built on it no later than the end plus the
 *    space's offline grace. Until the space's log has moved past that
 *    deadline the verdict is provisional (it stands, and is judged again).
 */
import { compareHlc, type Hlc, isHlc } from "./hlc.ts";
import type { Revocation } from "../ucan/revocation.ts";
import type { CausalGraph } from "./causal.ts";

export interface RevocationMark {
  /** When the revoker signed it (ms); undefined for records without a causal position (revoke everything). */
  at?: number;
  /** What the revoker had seen; undefined while part of it is unknown here. */
  past: ReadonlySet<string>;
  /** Everything the revoked chain signed from this time on is void, seen or not. */
  voidSince?: Hlc;
}

export interface StandingContext {
  graph: CausalGraph;
  graceMs: number;
  /** Expiry (Unix seconds, null for none) of a delegation, by cidKey. */
  expiryOf(key: string): number | null | undefined;
  revocationOf(key: string): RevocationMark | undefined;
  /** The delegation keys an operation in the log relies on. */
  proofsOf(cid: string): readonly string[] | undefined;
}

export type Standing =
  | { ok: true; decideAfter?: number }
  /** `deadline`: a witness dated up to then, arriving late, would still change the verdict. */
  | { ok: false; reason: string; deadline?: number };

const iso = (ms: number) => new Date(ms).toISOString();

export function judgeStanding(
  op: { cid: string; at: Hlc; author: string; proofs: readonly string[] },
  ctx: StandingContext,
): Standing {
  let end = Infinity;
  const ended: string[] = [];
  for (const key of op.proofs) {
    const rev = ctx.revocationOf(key);
    if (rev) {
      if (rev.at === undefined) return { ok: false, reason: "relies on a revoked delegation" };
      if (rev.voidSince && compareHlc(op.at, rev.voidSince) >= 0) {
        return { ok: false, reason: `voided: its revoker voided what it signed since ${iso(rev.voidSince[0])}` };
      }
      if (rev.past.has(op.cid)) continue; // the revoker had seen it: honest past work stands
      if (op.at[0] >= rev.at) return { ok: false, reason: `signed after its delegation was revoked (${iso(rev.at)})` };
      end = Math.min(end, rev.at);
      ended.push(key);
    }
    const exp = ctx.expiryOf(key);
    if (exp !== null && exp !== undefined) {
      end = Math.min(end, exp * 1000);
      ended.push(key);
    }
  }
  if (end === Infinity) return { ok: true };
  const deadline = end + ctx.graceMs;
  if (ctx.graph.latest <= deadline) return { ok: true, decideAfter: deadline };
  const witnessed = ctx.graph.witnessTime(op.cid, (n) => {
    if (n.author === op.author) return false;
    const proofs = ctx.proofsOf(n.cid);
    return proofs !== undefined && !proofs.some((k) => ended.includes(k));
  });
  if (witnessed <= deadline) return { ok: true };
  return {
    ok: false,
    deadline,
    reason: `its authority ended at ${iso(end)} and no other member built on it within the space's offline grace (${
      ctx.graceMs / 1000
    } s)`,
  };
}

/**
 * Where a revocation was made, as its revoker recorded it in `meta.weft`:
 * its time, the heads it had seen, and the point it voids from. Undefined
 * for a record without one (it revokes everything the chain ever signed).
 */
export function revocationPosition(rev: Revocation): { at: Hlc; after: string[]; voidSince?: Hlc } | undefined {
  const meta = rev.invocation.meta?.weft as { at?: unknown; after?: unknown; void?: unknown } | undefined;
  if (!meta || !isHlc(meta.at)) return undefined;
  const after = Array.isArray(meta.after) ? meta.after.filter((c): c is string => typeof c === "string") : [];
  return { at: meta.at, after, ...(isHlc(meta.void) ? { voidSince: meta.void } : {}) };
}
