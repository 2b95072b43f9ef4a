/** What a transport tells the node: which spaces a connected repo peer may sync, and when that changes. */
export interface PeerAccess {
  spacesOf(peer: string): ReadonlySet<string> | undefined;
  /**
   * Whether this transport's peers are offered every document of their
   * spaces (Weft nodes, which keep whole spaces), or only served the ones
   * they ask for (stock automerge-repo clients, which find one document).
   */
  readonly offersWholeSpaces: boolean;
  /**
   * Call `listener` whenever `spacesOf(peer)` may have changed: the peer
   * was admitted, proved or lost a space, or went.
   */
  onPeerAccess(listener: (peer: string) => void): void;
}
