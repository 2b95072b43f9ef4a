/**
 * A Radicle repository on disk, as heartwood lays it out in its storage: a
 * bare git repository where each node's refs live under
 * `refs/namespaces/<nid>/`: its collaborative objects at
 * `refs/cobs/<type>/<object id>` (the object id is its root change's
 * commit id), `refs/rad/id` pointing at the identity object, and
 * `refs/rad/sigrefs`, a commit holding the canonical list of its other
 * refs and its signature over that list, re-signed after every write.
 *
 * This node writes only under its own namespace, with compare-and-swap
 * ref moves; it reads every namespace, and an object's history is the
 * union of the changes reachable from each namespace's tip, each change
 * verified (see cob-change.ts). A change that fails is refused with its
 * descendants, the rest of the object still loads: heartwood's rule.
 */
import type { Signer, Verifier } from "#protocol/identity";
import { fromHex, fromUtf8 } from "#protocol";
import { canonicalBytes, type Json } from "./canonical-json.ts";
import { type Change, type Embed, readChange, writeChange } from "./cob-change.ts";
import { encodeCommit, parseCommit } from "./commit-object.ts";
import { RadicleForged, RadicleMalformed } from "./errors.ts";
import { GitRepo } from "./git-plumbing.ts";
import { evaluateIdentity, type Identity, IDENTITY_TYPE } from "./identity-cob.ts";
import { checkOid, encodeSignature, nidOf, nidOfDid, ridOf } from "./radicle-ids.ts";

const TYPE_NAME = /^[a-z0-9-]+(\.[a-z0-9-]+)+$/;
/**
 * The signed ref naming the repository (the identity's root change, whose embedded document's blob id is the
 * RID), and the one naming the sigrefs commit followed.
 */
const IDENTITY_ROOT = "refs/rad/root", SIGREFS_PARENT = "refs/rad/sigrefs-parent";

/** A sigrefs `refs` blob's list, as heartwood's `Refs::canonical` writes it: `<oid> <name>\n`, by name. */
function canonicalRefs(refs: Map<string, string>): string {
  return [...refs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([name, oid]) => `${oid} ${name}\n`).join("");
}

function parseRefs(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split("\n").filter(Boolean)) {
    out.set(line.slice(41), checkOid(line.slice(0, 40), "signed ref"));
  }
  return out;
}

const withoutParent = (refs: Map<string, string>) => new Map([...refs].filter(([name]) => name !== SIGREFS_PARENT));
/** Most changes read for one object; a bigger history is refused, not walked. */
const MAX_CHANGES = 100_000;
/** Changes kept parsed and verified (a commit's content never changes, so neither does the verdict). */
const CACHE_CHANGES = 10_000;

export interface RepoOptions {
  signer: Signer;
  verifier: Verifier;
  /** The node's alias: the commits' author name, and `alias@nid` their email. */
  alias: string;
  /** Seconds since the epoch for new changes (heartwood honours GIT_COMMITTER_DATE the same way). */
  now?: () => number;
}

export interface Project {
  name: string;
  description: string;
  defaultBranch: string;
  /** Delegates besides the node that creates it (did:key). */
  delegates?: string[];
}

export interface LoadedObject {
  id: string;
  /** Verified changes, parents before children, concurrent ones by (time, id): heartwood's order. */
  changes: Change[];
  /** Changes that failed verification (and their descendants), with why. */
  refused: { id: string; error: Error }[];
}

export class RadicleRepository {
  readonly git: GitRepo;
  readonly nid: string;
  readonly #o: RepoOptions;
  readonly #now: () => number;
  readonly #cache = new Map<string, Change | Error>();
  /** The identity as evaluated for a set of identity tips. */
  #identity?: { key: string; value: Identity };

  private constructor(git: GitRepo, o: RepoOptions) {
    this.git = git;
    this.#o = o;
    this.nid = nidOf(o.signer.publicKey);
    this.#now = o.now ?? (() => Math.floor(Date.now() / 1000));
  }

  static open(dir: string, o: RepoOptions): RadicleRepository {
    return new RadicleRepository(new GitRepo(dir), o);
  }

  /** `rad init` without a working copy: a bare repository whose identity document names this node as its delegate. */
  static async init(dir: string, project: Project, o: RepoOptions): Promise<{ repo: RadicleRepository; rid: string }> {
    const repo = new RadicleRepository(await GitRepo.init(dir), o);
    const { delegates = [], ...payload } = project;
    const doc = canonicalBytes({
      payload: { "xyz.radicle.project": payload },
      delegates: [...new Set([`did:key:${repo.nid}`, ...delegates.map((d) => `did:key:${nidOfDid(d)}`)])],
      threshold: 1,
    });
    const blob = await repo.git.write("blob", doc);
    const signature = encodeSignature(await o.signer.sign(fromHex(blob)));
    const id = await repo.#write(
      IDENTITY_TYPE,
      [],
      undefined,
      "Initialize identity",
      [{
        type: "revision",
        title: "Initial revision",
        blob,
        parent: null,
        signature,
      }],
      [],
      [{ name: "radicle.json", oid: blob }],
    );
    await repo.git.updateRef(repo.#ref(IDENTITY_TYPE, id), id, undefined);
    await repo.git.symbolicRef(`refs/namespaces/${repo.nid}/refs/rad/id`, repo.#ref(IDENTITY_TYPE, id));
    await repo.git.updateRef(`refs/namespaces/${repo.nid}/${IDENTITY_ROOT}`, id, undefined);
    await repo.signRefs();
    return { repo, rid: ridOf(blob) };
  }

  #ref(typeName: string, id: string, nid = this.nid): string {
    return `refs/namespaces/${nid}/refs/cobs/${typeName}/${id}`;
  }

  async #write(
    typeName: string,
    tips: string[],
    resource: string | undefined,
    message: string,
    actions: Json[],
    related: string[] = [],
    embeds: Embed[] = [],
  ): Promise<string> {
    const { id } = await writeChange(this.git, this.#o.signer, {
      typeName,
      tips,
      resource,
      related,
      message,
      actions: actions.map((a) => canonicalBytes(a)),
      embeds,
      author: { name: this.#o.alias, email: `${this.#o.alias}@${this.nid}` },
      time: this.#now(),
    });
    return id;
  }

  /**
   * The repository's identity, evaluated from its verified history
   * (identity-cob.ts): who the delegates are is decided by the delegates, not
   * by whichever namespace says so. Cached per set of identity tips.
   */
  async identity(): Promise<Identity> {
    const objects = await this.objectTips(IDENTITY_TYPE);
    if (objects.size !== 1) {
      throw new RadicleMalformed(
        `repository ${this.git.dir}`,
        objects.size ? "has more than one identity object" : "has no identity: is it a Radicle repository?",
      );
    }
    const [[id, tips]] = objects;
    const key = [...tips.values()].sort().join();
    if (this.#identity?.key === key) return this.#identity.value;
    const { changes } = await this.load(IDENTITY_TYPE, id, tips);
    const value = await evaluateIdentity(changes, {
      blob: async (oid) => new Uint8Array(await this.git.read(oid, "blob")),
      verify: (nid, message, signature) => this.#o.verifier.verify(`did:key:${nid}`, message, signature),
    });
    this.#identity = { key, value };
    return value;
  }

  /** The identity's current head: the change new objects name as their `Rad-Resource`. */
  async identityHead(): Promise<string> {
    return (await this.identity()).head;
  }

  /** The repository id: `rad:` + the blob id of the document its identity starts from. */
  async rid(): Promise<string> {
    return (await this.identity()).rid;
  }

  /** The node ids of the identity's current delegates. */
  async delegates(): Promise<Set<string>> {
    return new Set((await this.identity()).delegates);
  }

  /** Create an object: its root change, with `actions`, under this node's namespace. */
  async create(typeName: string, message: string, actions: Json[], related: string[] = []): Promise<string> {
    if (!TYPE_NAME.test(typeName)) {
      throw new RadicleMalformed("COB type", `${JSON.stringify(typeName)} is not a type name`);
    }
    const id = await this.#write(typeName, [], await this.identityHead(), message, actions, related);
    await this.git.updateRef(this.#ref(typeName, id), id, undefined);
    await this.signRefs();
    return id;
  }

  /**
   * Add a change after the object's current tips; returns the change's id.
   * The tips are those of its valid history: changes that fail
   * verification, and those in `dropped` (changes its type's evaluation
   * refused), are never built on, as heartwood builds only on the history it
   * evaluated.
   */
  async update(
    typeName: string,
    id: string,
    message: string,
    actions: Json[],
    options: { related?: string[]; dropped?: Iterable<string> } = {},
  ): Promise<string> {
    const { changes } = await this.load(typeName, id);
    const dropped = new Set(options.dropped ?? []);
    const live: Change[] = [];
    for (const c of changes) { // parents come first
      if (dropped.has(c.id) || c.parents.some((p) => dropped.has(p))) dropped.add(c.id);
      else live.push(c);
    }
    const parents = new Set(live.flatMap((c) => c.parents));
    const tips = live.filter((c) => !parents.has(c.id)).map((c) => c.id).sort();
    if (tips.length === 0) throw new RadicleMalformed(`${typeName} ${id}`, "does not exist in this repository");
    const mine = await this.git.resolve(this.#ref(typeName, id));
    const change = await this.#write(
      typeName,
      tips,
      await this.identityHead(),
      message,
      actions,
      options.related,
    );
    await this.git.updateRef(this.#ref(typeName, id), change, mine);
    await this.signRefs();
    return change;
  }

  /**
   * Point one of this node's own refs (`refs/heads/patches/<id>`, the
   * default branch) at a commit the repository holds, and re-sign its refs.
   */
  async setRef(name: string, oid: string): Promise<void> {
    if (!/^refs\/heads\/[^\s~^:?*[\\]+$/.test(name) || name.includes("..")) {
      throw new RadicleMalformed("ref", `${JSON.stringify(name)} is not a branch`);
    }
    const ref = `refs/namespaces/${this.nid}/${name}`;
    const old = await this.git.resolve(ref);
    if (old === checkOid(oid, "commit")) return;
    await this.git.updateRef(ref, oid, old);
    await this.signRefs();
  }

  /** Every object of a type with each namespace's tip of it (object id → node id → tip), from one ref listing. */
  async objectTips(typeName: string, id = "*"): Promise<Map<string, Map<string, string>>> {
    if (!TYPE_NAME.test(typeName)) {
      throw new RadicleMalformed("COB type", `${JSON.stringify(typeName)} is not a type name`);
    }
    if (id !== "*") checkOid(id, "object id");
    const out = new Map<string, Map<string, string>>();
    for (const [name, oid] of await this.git.refs(`refs/namespaces/*/refs/cobs/${typeName}/${id}`)) {
      const m = /^refs\/namespaces\/([^/]+)\/refs\/cobs\/([^/]+)\/([0-9a-f]{40})$/.exec(name);
      if (!m || m[2] !== typeName) continue;
      const tips = out.get(m[3]) ?? new Map<string, string>();
      tips.set(m[1], oid);
      out.set(m[3], tips);
    }
    return out;
  }

  /** Every object id of a type, across namespaces. */
  async objects(typeName: string): Promise<string[]> {
    return [...(await this.objectTips(typeName)).keys()].sort();
  }

  /**
   * Load an object's verified history (from `known` tips by node id, when
   * the caller listed them already). A namespace's tip must be signed by
   * that namespace's node; every change must verify and be of the type.
   */
  async load(typeName: string, id: string, known?: Map<string, string>): Promise<LoadedObject> {
    const tips = known ?? (await this.objectTips(typeName, id)).get(id) ?? new Map<string, string>();
    const changes = new Map<string, Change>();
    const refused: LoadedObject["refused"] = [];
    const bad = new Set<string>();
    const visit = async (oid: string): Promise<void> => {
      if (changes.has(oid) || bad.has(oid)) return;
      if (changes.size + bad.size >= MAX_CHANGES) {
        throw new RadicleMalformed(`${typeName} ${id}`, `has more than ${MAX_CHANGES} changes`);
      }
      let change: Change;
      try {
        change = await this.#read(oid);
        if (change.typeName !== typeName) {
          throw new RadicleMalformed(`COB change ${oid}`, `is a ${change.typeName}, not a ${typeName}`);
        }
        if (change.parents.length === 0 && oid !== id) {
          throw new RadicleMalformed(`COB change ${oid}`, `is a root, but the object is ${id}`);
        }
      } catch (e) {
        bad.add(oid);
        refused.push({ id: oid, error: e as Error });
        return;
      }
      changes.set(oid, change);
      for (const p of change.parents) await visit(p);
    };
    for (const [nid, tip] of tips) {
      await visit(tip);
      const change = changes.get(tip);
      if (change && nidOf(change.signer) !== nid) {
        changes.delete(tip);
        bad.add(tip);
        refused.push({
          id: tip,
          error: new RadicleForged(
            `COB change ${tip}`,
            `it is the tip of ${nid}'s namespace but signed by ${nidOf(change.signer)}`,
          ),
        });
      }
    }
    return { id, changes: order(id, changes, bad), refused };
  }

  /** A change, read and verified once: later reads come from the cache, verdicts (refusals) included. */
  async #read(oid: string): Promise<Change> {
    let hit = this.#cache.get(oid);
    if (hit === undefined) {
      hit = await readChange(this.git, this.#o.verifier, oid).catch((e: Error) => e);
      if (this.#cache.size >= CACHE_CHANGES) this.#cache.delete(this.#cache.keys().next().value as string);
      this.#cache.set(oid, hit);
    }
    if (hit instanceof Error) throw hit;
    return hit;
  }

  /**
   * Re-sign this node's refs as heartwood's `SignedRefsWriter` does (feature
   * level "parent"): `refs/rad/sigrefs` gets a commit whose `refs` blob is
   * the canonical list of the namespace's other refs, `refs/rad/root`
   * among them (the identity's root change, whose document is the RID: a
   * list cannot be grafted onto another repository) and, after the first, `refs/rad/sigrefs-parent` (the commit
   * it follows: an old list cannot be replayed), and whose `signature` blob
   * signs that list; committed by `radicle <nid>`. Nothing is written when
   * the refs are as last signed.
   */
  async signRefs(): Promise<void> {
    const ns = `refs/namespaces/${this.nid}/`;
    const sigrefs = `${ns}refs/rad/sigrefs`;
    const refs = new Map(
      [...(await this.git.refs(ns)).entries()]
        .map(([name, oid]) => [name.slice(ns.length), oid] as const)
        .filter(([name]) => name !== "refs/rad/sigrefs" && name !== SIGREFS_PARENT),
    );
    const root = (await this.identity()).root;
    if (refs.get(IDENTITY_ROOT) !== root) {
      // As heartwood's `sign_refs`: the namespace names the identity it belongs to before its refs are signed.
      await this.git.updateRef(`${ns}${IDENTITY_ROOT}`, root, refs.get(IDENTITY_ROOT));
      refs.set(IDENTITY_ROOT, root);
    }
    const parent = await this.git.resolve(sigrefs);
    if (parent) {
      const old = await this.git.run(["cat-file", "blob", `${parent}:refs`]).catch(() => undefined);
      if (old && canonicalRefs(withoutParent(parseRefs(fromUtf8(old)))) === canonicalRefs(refs)) return;
      refs.set(SIGREFS_PARENT, parent);
    }
    const canonical = canonicalRefs(refs);
    const signature = await this.#o.signer.sign(new TextEncoder().encode(canonical));
    const tree = await this.git.mktree([
      { mode: "100644", type: "blob", oid: await this.git.write("blob", canonical), name: "refs" },
      { mode: "100644", type: "blob", oid: await this.git.write("blob", signature), name: "signature" },
    ]);
    const person = { name: "radicle", email: this.nid, time: this.#now(), offset: 0 };
    const commit = await this.git.write(
      "commit",
      encodeCommit({
        tree,
        parents: parent ? [parent] : [],
        author: person,
        committer: person,
        headers: [],
        message: "Update signed refs",
        trailers: [],
      }),
    );
    await this.git.updateRef(sigrefs, commit, parent);
  }

  /**
   * The RID a signed `refs/rad/root` names, as heartwood's `IdentityRootReader` reads it: the blob id of
   * `embeds/radicle.json` in that commit's tree; undefined when it holds none.
   */
  async #ridAt(commit: string): Promise<string | undefined> {
    const tree = await this.git.run(["rev-parse", "--verify", "-q", `${checkOid(commit, "refs/rad/root")}^{tree}`])
      .catch(() => undefined);
    if (!tree) return undefined;
    const embeds = (await this.git.readTree(tree.toString().trim())).find((e) => e.name === "embeds");
    const doc = embeds?.type === "tree"
      ? (await this.git.readTree(embeds.oid)).find((e) => e.name === "radicle.json" && e.type === "blob")
      : undefined;
    return doc ? ridOf(doc.oid) : undefined;
  }

  /**
   * Verify a node's `refs/rad/sigrefs` as heartwood reads it: the signature
   * over its ref list by that node; `refs/rad/root`, where present, a
   * commit embedding this repository's document; `refs/rad/sigrefs-parent`, where present, naming the
   * commit's own parent, and not left out after a list that had it (feature
   * levels only rise). Resolves with the signed refs (the parent entry left out).
   */
  async verifySigrefs(nid: string): Promise<Map<string, string>> {
    const at = await this.git.resolve(`refs/namespaces/${nid}/refs/rad/sigrefs`);
    if (!at) throw new RadicleMalformed(`node ${nid}`, "has no refs/rad/sigrefs");
    const refs = await this.git.run(["cat-file", "blob", `${at}:refs`]);
    const signature = await this.git.run(["cat-file", "blob", `${at}:signature`]);
    if (!(await this.#o.verifier.verify(`did:key:${nid}`, new Uint8Array(refs), new Uint8Array(signature)))) {
      throw new RadicleForged(`refs/rad/sigrefs of ${nid}`, "its signature does not verify");
    }
    const signed = parseRefs(fromUtf8(refs));
    const root = signed.get(IDENTITY_ROOT);
    if (root !== undefined && (await this.#ridAt(root)) !== await this.rid()) {
      throw new RadicleForged(`refs/rad/sigrefs of ${nid}`, "is signed for another repository (its refs/rad/root)");
    }
    const claimed = signed.get(SIGREFS_PARENT);
    const { parents } = parseCommit(fromUtf8(await this.git.read(at, "commit")));
    if (claimed === undefined && parents.length === 1) {
      // Feature levels only rise: a list without the entry after one that had it is an old list replayed.
      const before = await this.git.run(["cat-file", "blob", `${parents[0]}:refs`]).catch(() => undefined);
      if (before && parseRefs(fromUtf8(before)).has(SIGREFS_PARENT)) {
        throw new RadicleForged(`refs/rad/sigrefs of ${nid}`, "replays an older list (it drops its sigrefs-parent)");
      }
    }
    if (claimed !== undefined) {
      if (parents.length !== 1 || parents[0] !== claimed) {
        throw new RadicleForged(
          `refs/rad/sigrefs of ${nid}`,
          "replays an older list (its sigrefs-parent is not its parent)",
        );
      }
    }
    return withoutParent(signed);
  }
}

/** Topological order from the root, concurrent changes by (timestamp, id); descendants of refused changes left out. */
function order(root: string, changes: Map<string, Change>, bad: Set<string>): Change[] {
  const children = new Map<string, string[]>();
  for (const c of changes.values()) {
    for (const p of c.parents) children.set(p, [...(children.get(p) ?? []), c.id]);
  }
  const done = new Set<string>();
  const out: Change[] = [];
  const ready: Change[] = [];
  const rootChange = changes.get(root);
  if (!rootChange) return [];
  ready.push(rootChange);
  while (ready.length) {
    ready.sort((a, b) => a.timestamp - b.timestamp || (a.id < b.id ? -1 : 1));
    const next = ready.shift()!;
    done.add(next.id);
    out.push(next);
    for (const child of children.get(next.id) ?? []) {
      const c = changes.get(child)!;
      if (c.parents.every((p) => done.has(p)) && !c.parents.some((p) => bad.has(p))) ready.push(c);
    }
  }
  return out;
}
