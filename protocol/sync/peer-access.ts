/** What a transport tells the node: which spaces a connected repo peer may sync. */
export interface PeerAccess {
  spacesOf(peer: string): ReadonlySet<string> | undefined;
}
