/**
 * The Nostr bridge's typed errors: an incoming event dropped before it could
 * reach anything (with the reason, for logs and counters), and a pairing
 * code that does not work.
 */
import { WeftError } from "#protocol";

/** Why an incoming gift wrap was dropped; each is counted and logged, none is answered. */
export type DropReason =
  | "oversized"
  | "malformed"
  | "bad-signature"
  | "not-for-us"
  | "undecryptable"
  | "forged-seal"
  | "bad-rumor-id"
  | "not-a-dm"
  | "stale";

export class NostrDropped extends WeftError {
  readonly reason: DropReason;
  constructor(reason: DropReason, why: string) {
    super("NostrDropped", "nostr/dropped", `gift wrap dropped (${reason}): ${why}`);
    this.reason = reason;
  }
}

export class PairingRefused extends WeftError {
  constructor(why: string) {
    super("PairingRefused", "nostr/pairing", `${why}: DM "pair" to the bridge again for a new code`);
  }
}
