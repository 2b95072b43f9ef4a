/**
 * One change of a Radicle collaborative object, as heartwood's
 * radicle-cob stores it: a git commit whose tree holds `manifest`
 * (`{"typeName":…,"version":1}`), the change's actions as blobs `0`, `1`, …
 * (canonical JSON), and optional `embeds/`; signed with an SSHSIG
 * (namespace `radicle`) over the tree id's raw 20 bytes in `gpgsig`; with
 * a `Rad-Related` trailer per related object and a `Rad-Resource` trailer
 * naming the repository identity it belongs to. Parents are the object's
 * previous tips, then the related objects, then the resource.
 *
 * Reading checks everything it can: one SSH signature that verifies over
 * the tree, a signer that is the author the commit names, a manifest, at
 * least one action, bounded sizes. A change that fails is refused, named.
 */
import type { Signer, Verifier } from "#protocol/identity";
import { fromHex, fromUtf8 } from "#protocol";
import { encodeCommit, parseCommit, type Person } from "./commit-object.ts";
import { RadicleForged, RadicleMalformed } from "./errors.ts";
import type { GitRepo, TreeEntry } from "./git-plumbing.ts";
import { nidOf } from "./radicle-ids.ts";
import { armor, dearmor } from "./sshsig.ts";

export const MANIFEST = "manifest";
export const EMBEDS = "embeds";
const RESOURCE = "Rad-Resource";
const RELATED = "Rad-Related";
/** Bounds on what a change may hold when read from a repository. */
const MAX_ACTIONS = 64;
const MAX_ACTION_BYTES = 1024 * 1024;

export interface Embed {
  name: string;
  /** The blob id of its content (already written). */
  oid: string;
}

export interface NewChange {
  typeName: string;
  /** The object's current tips (none for the root change). */
  tips: string[];
  /** The repository identity commit this change belongs to. */
  resource?: string;
  /** Other objects this change depends on (e.g. a patch revision's commits). */
  related?: string[];
  message: string;
  /** The actions, each already encoded as canonical JSON. */
  actions: Uint8Array[];
  embeds?: Embed[];
  /** Who commits: heartwood uses the repository's `user.name` and `user.email` (`alias@nid`). */
  author: { name: string; email: string };
  /** Seconds since the epoch. */
  time: number;
}

export interface Change {
  id: string;
  tree: string;
  /** The previous changes of the same object (resource and related parents removed). */
  parents: string[];
  resource?: string;
  related: string[];
  /** The signer's Ed25519 public key; always the author's, or the change was refused. */
  signer: Uint8Array;
  typeName: string;
  version: number;
  actions: Uint8Array[];
  embeds: Embed[];
  timestamp: number;
  message: string;
}

export async function writeChange(repo: GitRepo, signer: Signer, c: NewChange): Promise<{ id: string; tree: string }> {
  const manifest = await repo.write("blob", JSON.stringify({ typeName: c.typeName, version: 1 }));
  const entries: TreeEntry[] = [{ mode: "100644", type: "blob", oid: manifest, name: MANIFEST }];
  for (const [i, action] of c.actions.entries()) {
    entries.push({ mode: "100644", type: "blob", oid: await repo.write("blob", action), name: String(i) });
  }
  if (c.embeds?.length) {
    const tree = await repo.mktree(c.embeds.map((e) => ({ mode: "100644", type: "blob", oid: e.oid, name: e.name })));
    entries.push({ mode: "040000", type: "tree", oid: tree, name: EMBEDS });
  }
  const tree = await repo.mktree(entries);
  const signature = await signer.sign(fromHex(tree));
  const related = [...new Set(c.related ?? [])].sort();
  const person: Person = { ...c.author, time: c.time, offset: 0 };
  const bytes = encodeCommit({
    tree,
    parents: [...c.tips, ...related, ...(c.resource ? [c.resource] : [])],
    author: person,
    committer: person,
    headers: [["gpgsig", armor({ publicKey: signer.publicKey, signature })]],
    message: c.message,
    trailers: [
      ...related.map((r) => ({ token: RELATED, value: r })),
      ...(c.resource ? [{ token: RESOURCE, value: c.resource }] : []),
    ],
  });
  return { id: await repo.write("commit", bytes), tree };
}

export async function readChange(repo: GitRepo, verifier: Verifier, id: string): Promise<Change> {
  const what = `COB change ${id}`;
  const commit = parseCommit(fromUtf8(await repo.read(id, "commit")));
  const signatures = commit.headers.filter(([k]) => k === "gpgsig");
  if (signatures.length !== 1) {
    throw new RadicleForged(what, `it carries ${signatures.length} signatures, a change has exactly one`);
  }
  const { publicKey, signature } = dearmor(signatures[0][1]);
  if (!(await verifier.verify(`did:key:${nidOf(publicKey)}`, fromHex(commit.tree), signature))) {
    throw new RadicleForged(what, "its SSH signature does not verify over its tree");
  }
  const claimed = /@(z6Mk[1-9A-HJ-NP-Za-km-z]{44})$/.exec(commit.author.email)?.[1];
  if (claimed !== undefined && claimed !== nidOf(publicKey)) {
    throw new RadicleForged(what, `it names author ${claimed} but is signed by ${nidOf(publicKey)}`);
  }
  const resources = commit.trailers.filter((t) => t.token === RESOURCE).map((t) => t.value);
  if (resources.length > 1) throw new RadicleMalformed(what, "has more than one Rad-Resource trailer");
  const related = commit.trailers.filter((t) => t.token === RELATED).map((t) => t.value);
  const entries = await repo.readTree(commit.tree);
  const manifestEntry = entries.find((e) => e.name === MANIFEST && e.type === "blob");
  if (!manifestEntry) throw new RadicleMalformed(what, "has no manifest");
  let manifest: { typeName?: unknown; typename?: unknown; version?: unknown };
  try {
    manifest = JSON.parse(fromUtf8(await repo.read(manifestEntry.oid, "blob")));
  } catch {
    throw new RadicleMalformed(what, "its manifest is not JSON");
  }
  const typeName = manifest.typeName ?? manifest.typename;
  if (typeof typeName !== "string") throw new RadicleMalformed(what, "its manifest names no type");
  const numbered = entries.filter((e) => e.type === "blob" && /^(0|[1-9]\d?)$/.test(e.name))
    .sort((a, b) => Number(a.name) - Number(b.name));
  if (numbered.length === 0) throw new RadicleMalformed(what, "holds no action");
  if (numbered.length > MAX_ACTIONS) throw new RadicleMalformed(what, `holds more than ${MAX_ACTIONS} actions`);
  const actions: Uint8Array[] = [];
  for (const e of numbered) {
    const bytes = await repo.read(e.oid, "blob");
    if (bytes.length > MAX_ACTION_BYTES) throw new RadicleMalformed(what, "holds an action larger than 1 MiB");
    actions.push(new Uint8Array(bytes));
  }
  const embedTree = entries.find((e) => e.name === EMBEDS && e.type === "tree");
  const embeds = embedTree ? (await repo.readTree(embedTree.oid)).map((e) => ({ name: e.name, oid: e.oid })) : [];
  return {
    id,
    tree: commit.tree,
    parents: commit.parents.filter((p) => !resources.includes(p) && !related.includes(p)),
    resource: resources[0],
    related,
    signer: publicKey,
    typeName,
    version: typeof manifest.version === "number" ? manifest.version : 1,
    actions,
    embeds,
    timestamp: commit.committer.time,
    message: commit.message,
  };
}

/** An action blob as JSON; a blob that is not JSON is malformed. */
export function actionJson(change: Change, index: number): Record<string, unknown> {
  try {
    const v = JSON.parse(fromUtf8(change.actions[index]));
    if (v && typeof v === "object" && !Array.isArray(v)) return v;
  } catch { /* reported below */ }
  throw new RadicleMalformed(`COB change ${change.id}`, `action ${index} is not a JSON object`);
}
