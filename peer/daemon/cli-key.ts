/**
 * The local CLI's key over the daemon's lifetime: kept across restarts
 * (one CLI, one DID, not a new member each start), and rotated on demand
 * (`weft cli rotate`) when its file may have leaked. Rotating issues a new
 * key, records the old key's two delegations as revoked on this node (on
 * disk before it answers, so a restart does not give them their power
 * back), and revokes the old powerline in every space the node is in, so
 * every node refuses what the old key signs from then on.
 */
import { WeftError } from "#protocol";
import type { Signer } from "#protocol/identity";
import type { WeftNode } from "#protocol/node";
import { type Credentials, issueCredentials, keepCredentials } from "../api/credentials.ts";
import { type NodeRevocations, revokeNodeWide } from "./node-revocations.ts";

/** What a rotation did. */
export interface Rotation {
  /** The new CLI key's DID. */
  did: string;
  /** The old key's delegations, now revoked (CIDs). */
  revoked: string[];
  /** Spaces that now record the old powerline's revocation. */
  spaces: number;
}

export class CliKey {
  readonly #home: string;
  readonly #node: WeftNode;
  readonly #signer: Signer;
  readonly #revocations: NodeRevocations;
  #credentials?: Credentials;

  constructor(home: string, node: WeftNode, signer: Signer, revocations: NodeRevocations) {
    this.#home = home;
    this.#node = node;
    this.#signer = signer;
    this.#revocations = revocations;
  }

  /** The CLI's credentials for the API at `url`: the kept ones unless revoked, else new ones. */
  async start(url: string): Promise<Credentials> {
    this.#credentials = await keepCredentials(this.#home, this.#signer, url, (cid) => this.#revocations.has(cid));
    return this.#credentials;
  }

  /** A new CLI key; the old one's delegations revoked here (durably) and its powerline in every space. */
  async rotate(): Promise<Rotation> {
    const old = this.#credentials;
    if (!old) throw new WeftError("Unavailable", "node/not-ready", "the API is not serving yet; try again");
    const fresh = await issueCredentials(this.#home, this.#signer, old.url);
    this.#credentials = fresh;
    await this.#revocations.add([old.nodeDelegation.cid.toString()]);
    const spaces = await revokeNodeWide(this.#node, this.#revocations, old.powerline);
    return {
      did: fresh.signer.did,
      revoked: [old.nodeDelegation, old.powerline].map((d) => d.cid.toString()),
      spaces,
    };
  }
}
