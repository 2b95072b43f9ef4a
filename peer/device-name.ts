/** What a peer calls itself in the delegation of a space it creates: its host, so members see which machine it is. */
import { hostname } from "node:os";

export function peerDeviceName(): string {
  return `peer on ${hostname()}`;
}
