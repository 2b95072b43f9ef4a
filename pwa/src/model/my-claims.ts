/**
 * The claims this browser signed, remembered (in localStorage, bounded) so
 * that one set aside later — another node's concurrent claim won when the
 * two met — can be told to its author instead of vanishing from the
 * history. What is read back is checked for shape; anything else is dropped.
 */
const KEY = "weft-my-claims";
const MAX = 200;

export interface MyClaim {
  space: string;
  task: string;
  /** CID of the claim operation. */
  op: string;
  /** Unix ms. */
  at: number;
}

const isClaim = (v: unknown): v is MyClaim => {
  const c = v as Partial<MyClaim> | null;
  return typeof c?.space === "string" && typeof c.task === "string" && typeof c.op === "string" &&
    typeof c.at === "number";
};

export function myClaims(): MyClaim[] {
  try {
    const value = JSON.parse(localStorage.getItem(KEY) ?? "[]");
    return Array.isArray(value) ? value.filter(isClaim).slice(-MAX) : [];
  } catch {
    return [];
  }
}

export function rememberClaim(claim: MyClaim): void {
  try {
    localStorage.setItem(KEY, JSON.stringify([...myClaims().filter((c) => c.op !== claim.op), claim].slice(-MAX)));
  } catch {
    // Storage full or blocked: the claim stands; only the later notice is lost.
  }
}

/** Stop telling about a claim (its author has seen that it was lost). */
export function forgetClaim(op: string): void {
  try {
    localStorage.setItem(KEY, JSON.stringify(myClaims().filter((c) => c.op !== op)));
  } catch {
    // As above.
  }
}
