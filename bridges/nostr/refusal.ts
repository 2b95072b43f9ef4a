/**
 * The one answer a paired person gets when they ask, by DM, for what they
 * did not delegate to the bridge: what they may not do, and the command on
 * their own peer that would let them.
 */
import type { BridgeContext, BridgeSpace } from "#protocol/bridge";

export function refusal(context: BridgeContext, space: BridgeSpace, command: string, what: string): string {
  return `You may not ${what} in ${space.name} through me: you have not delegated ${command} to me there. ` +
    `On your peer: weft cap delegate --space ${space.id} --to ${context.did} --command ${command}`;
}
