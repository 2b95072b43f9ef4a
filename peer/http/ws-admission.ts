/**
 * What an unauthenticated WebSocket may cost a server. Until its session
 * has authenticated (a Weft session proved a space; a stock client's token
 * was checked at the upgrade), a socket may send only frames the size a
 * handshake needs, must authenticate within a time limit, and counts
 * against a cap per remote address and a cap in total; an upgrade past
 * either cap is refused before a socket exists. Authenticating lifts all
 * of that. Without it, 24 sockets each sending one 63 MiB frame took a
 * relay from 155 MB to 1.65 GB.
 */

export interface AdmissionLimits {
  /** Largest frame before authentication, in bytes (a hello and an `auth` with its proofs fit). */
  maxPayload: number;
  /** How long a socket may stay unauthenticated. */
  timeoutMs: number;
  /** Unauthenticated sockets (and upgrades being decided) per remote address. */
  perAddress: number;
  /** Unauthenticated sockets (and upgrades being decided) in total. */
  total: number;
}

export const DEFAULT_ADMISSION: AdmissionLimits = {
  maxPayload: 1024 * 1024,
  timeoutMs: 15_000,
  perAddress: 16,
  total: 512,
};

/** One unauthenticated socket's place: `admit` once it authenticated, `release` when it is gone (either, repeatedly, is fine). */
export interface Ticket {
  admit(): void;
  release(): void;
  readonly admitted: boolean;
}

export class Admission {
  readonly limits: AdmissionLimits;
  readonly #perAddress = new Map<string, number>();
  #total = 0;

  constructor(limits: Partial<AdmissionLimits> = {}) {
    this.limits = { ...DEFAULT_ADMISSION, ...limits };
  }

  /** How many sockets are waiting to authenticate. */
  get pending(): number {
    return this.#total;
  }

  /** A place for a new socket from `address`, or why there is none. */
  enter(address: string): Ticket | { refused: string } {
    const here = this.#perAddress.get(address) ?? 0;
    if (here >= this.limits.perAddress) {
      return { refused: `${here} connections from this address are still unauthenticated; authenticate or close them` };
    }
    if (this.#total >= this.limits.total) {
      return { refused: "too many connections are waiting to authenticate; try again shortly" };
    }
    this.#perAddress.set(address, here + 1);
    this.#total++;
    let held = true;
    let admitted = false;
    const leave = () => {
      if (!held) return;
      held = false;
      this.#total--;
      const left = (this.#perAddress.get(address) ?? 1) - 1;
      if (left > 0) this.#perAddress.set(address, left);
      else this.#perAddress.delete(address);
    };
    return {
      admit() {
        admitted = true;
        leave();
      },
      release: leave,
      get admitted() {
        return admitted;
      },
    };
  }
}
