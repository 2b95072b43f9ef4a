/**
 * Powerlines this node issued (`POST /v1/capabilities`): the node's authority
 * in every space it is in, handed to another key. Kept in
 * `<home>/powerlines.json` (0600) before the grant is answered, so the node
 * can list what it gave out and revoke any of it node-wide
 * (`DELETE /v1/capabilities/:cid`, `weft cap unpower`): here, durably, and in
 * every space, so every member refuses the holder from then on.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fromBase64Url, toBase64Url, WeftError } from "#protocol";
import type { WeftNode } from "#protocol/node";
import { decodeDelegation, type Delegation } from "#protocol/ucan";
import { writeFileAtomic } from "../storage/atomic-file.ts";
import { type NodeRevocations, revokeNodeWide } from "./node-revocations.ts";

interface PowerlinesFile {
  version: 1;
  tokens: string[];
}

/** A powerline as listed: who holds it, for what, until when, and whether it still stands. */
export interface PowerlineEntry {
  cid: string;
  aud: string;
  cmd: string;
  name?: string;
  exp: number | null;
  revoked: boolean;
}

const MAX_POWERLINES = 10_000;
const MAX_FILE_BYTES = 32 * 1024 * 1024;

export class Powerlines {
  readonly #path: string;
  readonly #node: WeftNode;
  readonly #revocations: NodeRevocations;
  readonly #issued: Delegation[];

  private constructor(path: string, node: WeftNode, revocations: NodeRevocations, issued: Delegation[]) {
    this.#path = path;
    this.#node = node;
    this.#revocations = revocations;
    this.#issued = issued;
  }

  static async open(home: string, node: WeftNode, revocations: NodeRevocations): Promise<Powerlines> {
    const path = join(home, "powerlines.json");
    return new Powerlines(path, node, revocations, await readIssued(path, node.did));
  }

  /** Record a powerline this node just signed: on disk before the grant is answered. */
  async record(d: Delegation): Promise<void> {
    if (this.#issued.length >= MAX_POWERLINES) {
      throw new WeftError(
        "Unavailable",
        "node/too-many-powerlines",
        `this node keeps at most ${MAX_POWERLINES} powerlines: revoke unused ones (weft cap unpower)`,
      );
    }
    const next = [...this.#issued, d];
    await writeFileAtomic(
      this.#path,
      JSON.stringify({ version: 1, tokens: next.map((x) => toBase64Url(x.bytes)) } satisfies PowerlinesFile) + "\n",
      0o600,
    );
    this.#issued.push(d);
  }

  list(): PowerlineEntry[] {
    return this.#issued.map((d) => ({
      cid: d.cid.toString(),
      aud: d.aud,
      cmd: d.cmd,
      ...(typeof d.meta?.name === "string" ? { name: d.meta.name } : {}),
      exp: d.exp ?? null,
      revoked: this.#revocations.has(d.cid.toString()),
    }));
  }

  /** Revoke a powerline this node issued, here and in every space; resolves to the spaces that record it. */
  async revoke(cid: string): Promise<{ revoked: string; spaces: number }> {
    const d = this.#issued.find((x) => x.cid.toString() === cid);
    if (!d) {
      throw new WeftError(
        "NotFound",
        "cap/not-issued",
        `this node issued no powerline ${cid}: see weft cap powerlines`,
      );
    }
    return { revoked: cid, spaces: await revokeNodeWide(this.#node, this.#revocations, d) };
  }
}

async function readIssued(path: string, nodeDid: string): Promise<Delegation[]> {
  let raw: string;
  try {
    raw = await readFile(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw e;
  }
  const bad = (why: string) =>
    new WeftError("Invalid", "node/bad-powerlines", `${path} is not this node's list of powerlines (${why})`);
  if (raw.length > MAX_FILE_BYTES) throw bad("too large");
  let f: PowerlinesFile;
  try {
    f = JSON.parse(raw) as PowerlinesFile;
  } catch {
    throw bad("not JSON");
  }
  if (f?.version !== 1 || !Array.isArray(f.tokens) || f.tokens.length > MAX_POWERLINES) throw bad("wrong shape");
  return f.tokens.map((t) => {
    let d: Delegation;
    try {
      d = decodeDelegation(fromBase64Url(String(t)));
    } catch {
      throw bad("a token does not decode");
    }
    if (d.iss !== nodeDid || d.sub !== null) throw bad("a token is not a powerline of this node's");
    return d;
  });
}
