/**
 * What a sync session needs to know about spaces, provided by the node:
 * how to prove this node may sync each of its spaces (bound to the remote's
 * challenge, so a proof cannot be replayed on another connection), how to
 * check a remote's proof, which space a document belongs to, and how to
 * tell a remote it was revoked (and learn it when we are).
 */

/** What a verified proof grants: a space, for a while. */
export interface SyncGrant {
  space: string;
  /** Milliseconds until the proof's chain lapses by time (its earliest expiry), or null if it does not. */
  lapsesInMs: number | null;
}

export interface SyncAuthority {
  /** One container (invocation of /weft/space/sync + its proofs) per space this node may sync. */
  prove(challenge: Uint8Array, remoteDid: string): Promise<Array<{ space: string; proof: Uint8Array }>>;
  /** Whether `prove` would include a proof for this space now. */
  offers(space: string): boolean;
  /**
   * Check a remote's proof. Resolves to the space it grants, or rejects
   * with a WeftError saying why (not a member, revoked, wrong challenge…).
   */
  verify(proof: Uint8Array, challenge: Uint8Array, localDid: string, remoteDid: string): Promise<SyncGrant>;
  /**
   * The signed revocation records that cut `remoteDid` off from a space
   * (empty if it is not revoked there): sent to it before its session is
   * narrowed, so it learns it was removed.
   */
  revocationsOf(space: string, remoteDid: string): Uint8Array[];
  /**
   * A remote says this node was revoked in a space: check each record
   * against this node's own copy of the space and apply the valid ones.
   */
  learnRevocations(space: string, records: Uint8Array[], from: string): Promise<void>;
  /** The space a document belongs to, or undefined if it is not a known space document. */
  spaceOf(documentId: string): string | undefined;
  /**
   * Called when a space is added or its members or revocations change:
   * sessions concerned with that space re-prove and re-check.
   */
  onChange(listener: (space: string) => void): () => void;
}
