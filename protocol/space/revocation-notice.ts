/**
 * What a revocation does to the member's work, in the words every shell
 * shows before it is confirmed (the CLI's `weft space revoke`, the
 * dashboard's revoke dialog), so no one revokes without knowing.
 */

/** The consequences of revoking `member` (a name or DID); with `voidSince` (Unix ms), the destructive variant. */
export function revocationNotice(member: string, voidSince?: number): string {
  const base = `${member} loses access now; their operations signed before this revocation stay ` +
    "(what this node has seen, and offline work another member saw within the space's grace); " +
    "operations they sign later are refused by every node.";
  if (voidSince === undefined) {
    return `${base} Use --void-since to also void what they signed from a point on (for a stolen key).`;
  }
  return `${base} Everything they signed since ${new Date(voidSince).toISOString()} is voided too, ` +
    "on every node: use this for a stolen key, it cannot be undone.";
}
