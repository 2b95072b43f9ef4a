/**
 * The Nostr bridge's typed errors: an incoming event dropped before it could
 * reach anything (with the reason, for logs and counters), a DM no relay
 * took, and a pairing code that does not work.
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

/** No relay took a DM the bridge sent: what it answers is read again (retried), not recorded as handled. */
export class NostrUnsent extends WeftError {
  constructor(to: string, relays: readonly string[]) {
    super("NostrUnsent", "nostr/unsent", `no relay took the DM to ${to} (${relays.join(", ")}); it is tried again`);
  }
}

export class PairingRefused extends WeftError {
  constructor(why: string) {
    super("PairingRefused", "nostr/pairing", `${why}: DM "pair" to the bridge again for a new code`);
  }
}
