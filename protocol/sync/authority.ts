/**
 * What a sync session needs to know about spaces, provided by the node:
 * how to prove this node may sync each of its spaces (bound to the remote's
 * challenge, so a proof cannot be replayed on another connection), how to
 * check a remote's proof, and which space a document belongs to.
 */
export interface SyncAuthority {
  /** One container (invocation of /weft/space/sync + its proofs) per space this node may sync. */
  prove(challenge: Uint8Array, remoteDid: string): Promise<Array<{ space: string; proof: Uint8Array }>>;
  /** Whether `prove` would include a proof for this space now. */
  offers(space: string): boolean;
  /**
   * Check a remote's proof. Resolves to the space it grants, or rejects
   * with a WeftError saying why (not a member, revoked, wrong challenge…).
   */
  verify(proof: Uint8Array, challenge: Uint8Array, localDid: string, remoteDid: string): Promise<string>;
  /** The space a document belongs to, or undefined if it is not a known space document. */
  spaceOf(documentId: string): string | undefined;
  /**
   * Called when a space is added or its members or revocations change:
   * sessions concerned with that space re-prove and re-check.
   */
  onChange(listener: (space: string) => void): () => void;
}
