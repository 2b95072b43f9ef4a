/**
 * Revocations of delegations this node issued on its own authority (the CLI's
 * key, powerlines), kept in `<home>/node-revocations.json`. Spaces record their
 * own revocations; these are the node's, checked by its API on every route
 * (`ApiAuthority.nodeRevocations`), and written to disk before a revocation is
 * acknowledged, so a restart never gives a revoked delegation its power back.
 * `revokeNodeWide` also revokes a node-wide delegation in every space the node
 * is in, so every member refuses it.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { WeftError } from "#protocol";
import type { WeftNode } from "#protocol/node";
import type { Delegation, MemoryRevocationStore } from "#protocol/ucan";
import { CID } from "multiformats/cid";
import { writeFileAtomic } from "../storage/atomic-file.ts";

interface RevokedFile {
  version: 1;
  revoked: string[];
}

const MAX_REVOKED = 100_000;
const MAX_FILE_BYTES = 8 * 1024 * 1024;

export class NodeRevocations {
  readonly #path: string;
  readonly #store: MemoryRevocationStore;
  /** In the order revoked (the file keeps that order). */
  readonly #revoked: Set<string>;

  private constructor(path: string, store: MemoryRevocationStore, revoked: string[]) {
    this.#path = path;
    this.#store = store;
    this.#revoked = new Set(revoked);
  }

  /** Loads the node's revocations from `<home>` into `store` (the API's node-level validator uses it). */
  static async open(home: string, store: MemoryRevocationStore): Promise<NodeRevocations> {
    const path = join(home, "node-revocations.json");
    const revoked = await readRevoked(path);
    for (const cid of revoked) store.add(CID.parse(cid));
    return new NodeRevocations(path, store, revoked);
  }

  has(cid: string): boolean {
    return this.#revoked.has(cid);
  }

  /** Revoke these delegations on this node: on disk before it returns, then in force. */
  async add(cids: string[]): Promise<void> {
    const fresh = [...new Set(cids)].filter((c) => !this.#revoked.has(c));
    if (fresh.length === 0) return;
    if (this.#revoked.size + fresh.length > MAX_REVOKED) {
      throw new WeftError(
        "Invalid",
        "node/too-many-revocations",
        `this node already records ${MAX_REVOKED} revocations`,
      );
    }
    const parsed = fresh.map((c) => CID.parse(c)); // a malformed CID throws here, before anything is written
    const next = [...this.#revoked, ...fresh];
    await writeFileAtomic(
      this.#path,
      JSON.stringify({ version: 1, revoked: next } satisfies RevokedFile) + "\n",
      0o600,
    );
    for (const [i, c] of fresh.entries()) {
      this.#revoked.add(c);
      this.#store.add(parsed[i]);
    }
  }
}

/**
 * Revoke a delegation this node issued with no subject (it acts in every space
 * the node is in): here first, durably, then in each space, which records the
 * delegation and its revocation so every member refuses it. Resolves to the
 * number of spaces that now record it.
 */
export async function revokeNodeWide(node: WeftNode, revocations: NodeRevocations, d: Delegation): Promise<number> {
  await revocations.add([d.cid.toString()]);
  let spaces = 0;
  for (const space of node.spaces()) {
    await space.addDelegations([d]);
    await space.revoke(d.cid.toString());
    spaces++;
  }
  return spaces;
}

async function readRevoked(path: string): Promise<string[]> {
  let raw: string;
  try {
    raw = await readFile(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw e;
  }
  const bad = () => new WeftError("Invalid", "node/bad-revocations", `${path} is not a list of revoked delegations`);
  if (raw.length > MAX_FILE_BYTES) throw bad();
  let f: RevokedFile;
  try {
    f = JSON.parse(raw) as RevokedFile;
  } catch {
    throw bad();
  }
  if (f?.version !== 1 || !Array.isArray(f.revoked) || f.revoked.length > MAX_REVOKED) throw bad();
  const out = f.revoked.map(String);
  for (const c of out) {
    try {
      CID.parse(c);
    } catch {
      throw bad();
    }
  }
  return out;
}
