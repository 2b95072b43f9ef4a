/**
 * The local CLI's key over the daemon's lifetime: kept across restarts
 * (one CLI, one DID, not a new member each start), and rotated on demand
 * (`weft cli rotate`) when its file may have leaked. Rotating issues a new
 * key, records the old key's two delegations as revoked on this node (on
 * disk before it answers, so a restart does not give them their power
 * back), and revokes the old powerline in every space the node is in, so
 * every node refuses what the old key signs from then on.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { WeftError } from "#protocol";
import type { Signer } from "#protocol/identity";
import type { WeftNode } from "#protocol/node";
import type { MemoryRevocationStore } from "#protocol/ucan";
import { CID } from "multiformats/cid";
import { type Credentials, issueCredentials, keepCredentials } from "../api/credentials.ts";
import { writeFileAtomic } from "../storage/atomic-file.ts";

/** What a rotation did. */
export interface Rotation {
  /** The new CLI key's DID. */
  did: string;
  /** The old key's delegations, now revoked (CIDs). */
  revoked: string[];
  /** Spaces that now record the old powerline's revocation. */
  spaces: number;
}

interface RevokedFile {
  version: 1;
  revoked: string[];
}

const MAX_REVOKED = 100_000;

/** Node-level revocations (delegations this node issued on itself and its powerlines), kept in `<home>`. */
async function readRevoked(path: string): Promise<string[]> {
  let raw: string;
  try {
    raw = await readFile(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw e;
  }
  const f = JSON.parse(raw) as RevokedFile;
  if (f.version !== 1 || !Array.isArray(f.revoked) || f.revoked.length > MAX_REVOKED) {
    throw new WeftError("Invalid", "node/bad-revocations", `${path} is not a list of revoked delegations`);
  }
  return f.revoked.map(String);
}

export class CliKey {
  readonly #home: string;
  readonly #node: WeftNode;
  readonly #signer: Signer;
  readonly #revocations: MemoryRevocationStore;
  readonly #revoked: string[];
  #credentials?: Credentials;

  private constructor(home: string, node: WeftNode, signer: Signer, store: MemoryRevocationStore, revoked: string[]) {
    this.#home = home;
    this.#node = node;
    this.#signer = signer;
    this.#revocations = store;
    this.#revoked = revoked;
  }

  /** Loads this node's revocations into `store` (the API's node-level validator uses it). */
  static async open(home: string, node: WeftNode, signer: Signer, store: MemoryRevocationStore): Promise<CliKey> {
    const revoked = await readRevoked(join(home, "node-revocations.json"));
    for (const cid of revoked) store.add(CID.parse(cid));
    return new CliKey(home, node, signer, store, revoked);
  }

  /** The CLI's credentials for the API at `url`: the kept ones unless revoked, else new ones. */
  async start(url: string): Promise<Credentials> {
    const revoked = new Set(this.#revoked);
    this.#credentials = await keepCredentials(this.#home, this.#signer, url, (cid) => revoked.has(cid));
    return this.#credentials;
  }

  /** A new CLI key; the old one's delegations revoked here (durably) and its powerline in every space. */
  async rotate(): Promise<Rotation> {
    const old = this.#credentials;
    if (!old) throw new WeftError("Unavailable", "node/not-ready", "the API is not serving yet; try again");
    const fresh = await issueCredentials(this.#home, this.#signer, old.url);
    const revoked = [old.nodeDelegation, old.powerline].map((d) => d.cid.toString());
    this.#revoked.push(...revoked);
    await writeFileAtomic(
      join(this.#home, "node-revocations.json"),
      JSON.stringify({ version: 1, revoked: this.#revoked } satisfies RevokedFile) + "\n",
      0o600,
    );
    for (const d of [old.nodeDelegation, old.powerline]) this.#revocations.add(d.cid);
    this.#credentials = fresh;
    let spaces = 0;
    for (const space of this.#node.spaces()) {
      await space.addDelegations([old.powerline]);
      await space.revoke(old.powerline.cid.toString());
      spaces++;
    }
    return { did: fresh.signer.did, revoked, spaces };
  }
}
