/**
 * A space as one node sees it: its automerge documents, the authority
 * derived from them, and its task log. Reads come from the reduced state;
 * every write is a UCAN invocation signed by this node with a chain it
 * holds, checked like anyone else's, written to the task's bucket document
 * and flushed to storage before the call resolves.
 *
 * This is the façade: what comes in from the documents is verified in
 * ingest.ts, the local write path is writes.ts, signing under a chain is
 * sign.ts, and the errors are errors.ts. It stays above ~400 lines because
 * creating, reading, writing and membership are one public surface.
 */
import type { AutomergeUrl, DocHandle, DocumentId, Repo } from "@automerge/automerge-repo";
import { WeftError } from "../errors.ts";
import type { Diagnostics } from "../diagnostics.ts";
import type { Signer } from "../identity/ed25519.ts";
import { randomBytes } from "../bytes.ts";
import { base32 } from "multiformats/bases/base32";
import { Commands } from "../ucan/commands.ts";
import { delegate, type Delegation } from "../ucan/delegation.ts";
import { type Invocation, invoke } from "../ucan/invocation.ts";
import type { ProofStore } from "../ucan/stores.ts";
import { revoke as signRevocation } from "../ucan/revocation.ts";
import { UcanError } from "../ucan/errors.ts";
import type { Ipld } from "../ucan/policy/ipld.ts";
import type { Verifier } from "../identity/ed25519.ts";
import { type Hlc, type HybridClock, isHlc } from "../tasks/hlc.ts";
import { judgeTime } from "../tasks/time-gate.ts";
import {
  AGENT_OP_KINDS,
  type AgentOpKind,
  type OpArgs,
  type OpKind,
  opKindOf,
  OPS,
  parseTaskOp,
} from "../tasks/ops.ts";
import { InvalidInput } from "../schema/input-checks.ts";
import { OpLog } from "../tasks/log.ts";
import { FAMILIES } from "./families.ts";
import { TASK_FAMILY } from "../tasks/task-family.ts";
import { queryTasks, type TaskFilter, type TaskView, view } from "../tasks/query.ts";
import { SpaceAuthority } from "./authority.ts";
import { cidOf } from "../codec/cid.ts";
import { type BucketDoc, DEFAULT_BUCKETS, type SpaceDoc } from "./docs.ts";
import { Conflict, Forbidden, NotFound } from "./errors.ts";
import { GENESIS, seconds, type SpaceEvent, SpaceIngest } from "./ingest.ts";
import { LocalWrites } from "./writes.ts";
import { type Actor, chainsOf, signIn } from "./sign.ts";

/** How many operations heard outside the documents a space keeps the bytes of (lease renewals, mostly). */
const MAX_HEARD_OUTSIDE = 4096;

export { Conflict, Forbidden, NotFound } from "./errors.ts";
export type { SpaceEvent } from "./ingest.ts";

export interface SpaceDeps {
  repo: Repo;
  /** This node's identity. */
  signer: Signer;
  diagnostics: Diagnostics;
  hlc: HybridClock;
  /** Wall clock, Unix ms. */
  now: () => number;
  verifier?: Verifier;
  /** Tell the sync layer a document belongs to this space. */
  registerDocument(documentId: string, space: string): void;
  /** Membership of space `id` changed (delegations or revocations): its sessions re-check. */
  authorityChanged(id: string): void;
  /** This node wrote an operation (e.g. to gossip lease operations and jobs ahead of the documents). */
  wrote?(space: Space, kind: OpKind, op: Invocation): void;
  /** This node changed one of the space's documents (e.g. to announce heads). */
  changed?(space: Space, documentId: string): void;
}

export function newTaskId(): string {
  return base32.encode(randomBytes(10)).slice(1); // 16 chars of [a-z2-7]
}

export interface CreateTaskInput {
  title: string;
  body?: string;
  labels?: string[];
  deps?: string[];
  requirements?: OpArgs<"create">["requirements"];
  review?: boolean;
  /** A job: what to run; the scheduler places it. */
  run?: OpArgs<"create">["run"];
  idempotencyKey?: string;
}

export class Space {
  readonly id: string;
  readonly authority: SpaceAuthority;
  readonly log: OpLog;
  readonly #deps: SpaceDeps;
  readonly #handle: DocHandle<SpaceDoc>;
  #buckets: DocHandle<BucketDoc>[] = [];
  readonly #listeners = new Set<(e: SpaceEvent) => void>();
  readonly #ingest: SpaceIngest;
  readonly #writes: LocalWrites;
  /** Operations heard outside the documents, by CID, newest last (see `ingest`). */
  readonly #heardOutside = new Map<string, Uint8Array>();

  private constructor(deps: SpaceDeps, id: string, handle: DocHandle<SpaceDoc>) {
    this.#deps = deps;
    this.id = id;
    this.#handle = handle;
    this.authority = new SpaceAuthority({ space: id, verifier: deps.verifier, clock: () => seconds(deps.now()) });
    this.log = new OpLog(this.authority, deps.diagnostics, {
      now: deps.now,
      onLate: (e) => this.#ingest.late(e),
      families: FAMILIES,
    });
    this.#ingest = new SpaceIngest({
      space: id,
      authority: this.authority,
      log: this.log,
      diagnostics: deps.diagnostics,
      hlc: deps.hlc,
      now: deps.now,
      self: deps.signer.did,
      authorityChanged: () => deps.authorityChanged(id),
      // A witness of another family's object goes to any bucket: it changes no task.
      witness: (task) => this.act("witness", { task: task ?? newTaskId() }),
      emit: (e) => this.#emit(e),
    });
    this.#writes = new LocalWrites({
      log: this.log,
      repo: deps.repo,
      buckets: () => this.#buckets,
      written: (ids) => {
        for (const doc of ids) deps.changed?.(this, doc);
      },
      heardOutside: (cid) => this.#heardOutside.get(cid),
    });
    deps.registerDocument(handle.documentId, id);
  }

  /**
   * Create a space whose root is `root` (a fresh key, kept by the caller),
   * delegating everything to this node.
   */
  static async create(
    deps: SpaceDeps,
    options: {
      root: Signer;
      name: string;
      buckets?: number;
      graceSeconds?: number;
      /** What the creating device is called in its delegation ("peer on build-1", "Firefox on macOS (3f9k)"). */
      deviceName?: string;
    },
  ): Promise<Space> {
    const { root, name } = options;
    const count = options.buckets ?? DEFAULT_BUCKETS;
    const buckets: DocHandle<BucketDoc>[] = [];
    for (let i = 0; i < count; i++) {
      buckets.push(deps.repo.create<BucketDoc>({ weft: "bucket/1", space: root.did, ops: {} }));
    }
    const genesis = await invoke({
      issuer: root,
      subject: root.did,
      command: Commands.spaceAdmin,
      args: {
        op: GENESIS,
        name,
        buckets: buckets.map((b) => b.documentId),
        at: deps.hlc.now() as unknown as Ipld,
        ...(options.graceSeconds !== undefined ? { grace: options.graceSeconds } : {}),
      },
      proofs: [],
      expiration: null,
    });
    const toNode = await delegate({
      issuer: root,
      audience: deps.signer.did,
      subject: root.did,
      command: "/",
      expiration: null,
      meta: { kind: "device", name: options.deviceName ?? "creator" },
    });
    const handle = deps.repo.create<SpaceDoc>({
      weft: "space/1",
      space: root.did,
      genesis: genesis.bytes,
      delegations: { [toNode.cid.toString()]: toNode.bytes },
      revocations: {},
      ops: {},
    });
    const space = new Space(deps, root.did, handle);
    space.authority.validator.trust(genesis);
    await space.#attach(buckets);
    await deps.repo.flush([handle.documentId, ...buckets.map((b) => b.documentId)]);
    return space;
  }

  /** Open a space from its document (local, or fetched from peers). */
  static async open(deps: SpaceDeps, url: AutomergeUrl, options: { signal?: AbortSignal } = {}): Promise<Space> {
    const handle = await deps.repo.find<SpaceDoc>(url, { signal: options.signal });
    const doc = handle.doc();
    if (doc?.weft !== "space/1" || typeof doc.space !== "string") {
      throw new WeftError("InvalidSpace", "space/invalid", `${url} is not a Weft space document`);
    }
    const space = new Space(deps, doc.space, handle);
    await space.#attach();
    return space;
  }

  get url(): AutomergeUrl {
    return this.#handle.url;
  }

  get name(): string {
    return this.#ingest.name;
  }

  /** All document ids of this space: the space document and its buckets. */
  get documentIds(): DocumentId[] {
    return [this.#handle.documentId, ...this.#buckets.map((b) => b.documentId)];
  }

  /** Read the genesis, then every delegation, revocation and operation, and watch for more. */
  async #attach(created?: DocHandle<BucketDoc>[]): Promise<void> {
    const doc = this.#handle.doc();
    const ingest = this.#ingest;
    const bucketIds = await ingest.genesis(doc.genesis);
    for (const id of bucketIds) this.#deps.registerDocument(id, this.id);
    await ingest.spaceDoc(doc);
    this.#handle.on("change", ({ doc, patches }) => ingest.enqueue(() => ingest.spaceChange(doc, patches)));
    this.#buckets = created ??
      await Promise.all(bucketIds.map((id) => this.#deps.repo.find<BucketDoc>(id as DocumentId)));
    // All buckets as one batch, so the log takes their operations in causal order: bucket by bucket, most would wait
    // for a parent in another bucket, past the log's bound on waiting operations in a large space. Watched from the
    // moment they are read, so nothing arriving meanwhile is missed (what arrives twice is taken once).
    const entries: [string, Uint8Array][] = [];
    for (const b of this.#buckets) {
      entries.push(...Object.entries(b.doc().ops ?? {}));
      b.on("change", ({ doc, patches }) => ingest.bucketChange(doc, patches));
    }
    await ingest.ops(entries);
  }

  /** Wait until every document change seen so far has been processed. */
  settled(): Promise<void> {
    return this.#ingest.settled();
  }

  /**
   * An operation that arrived outside the documents (e.g. a lease renewal on
   * gossip). Its bytes are kept a while (bounded), so a local operation that
   * names it as a parent can carry it into the documents (writes.ts).
   */
  ingest(bytes: Uint8Array): Promise<void> {
    return new Promise((resolve) =>
      this.#ingest.enqueue(async () => {
        try {
          const cid = cidOf(bytes).toString();
          if (this.#heardOutside.size >= MAX_HEARD_OUTSIDE) {
            this.#heardOutside.delete(this.#heardOutside.keys().next().value as string);
          }
          this.#heardOutside.set(cid, bytes);
          await this.#ingest.ops([[undefined, bytes]]);
        } finally {
          resolve();
        }
      })
    );
  }

  #emit(e: SpaceEvent): void {
    for (const l of this.#listeners) l(e);
  }

  /** Listen for changes to tasks, members and the name. */
  subscribe(listener: (e: SpaceEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  // ---- reads ----

  tasks(filter: TaskFilter = {}): TaskView[] {
    return queryTasks(this.log.reducer, filter, this.#deps.now());
  }

  task(id: string): TaskView | undefined {
    const reducer = this.log.reducer;
    const t = reducer.tasks.get(id) ?? [...reducer.tasks.values()].find((t) => t.id.startsWith(id));
    return t ? view(reducer, t, this.#deps.now()) : undefined;
  }

  members() {
    return this.authority.members(seconds(this.#deps.now()));
  }

  // ---- writes ----

  /** This node, as the author of its own operations. */
  get #self(): Actor {
    return { signer: this.#deps.signer, label: `this node (${this.#deps.signer.did})` };
  }

  /** Where a new operation of this node stands: what it has seen (the log's heads) and a time after all of it. */
  #position(): { at: Hlc; after: string[] } {
    const after = this.log.heads(); // newest first
    const newest = after.length > 0 ? this.log.timeOf(after[0]) : undefined;
    if (newest) this.#deps.hlc.observe(newest);
    return { at: this.#deps.hlc.now(), after };
  }

  /** Sign as this node, check, write and flush one task operation; resolves with the task after it. */
  act<K extends OpKind>(kind: K, args: Omit<OpArgs<K>, "at">): Promise<TaskView> {
    return this.#act(this.#self, kind, args);
  }

  /**
   * The same as `act`, signed by another principal held on this node (a
   * bridge acting as its own DID) with a chain from the space root to it
   * recorded in the space document: every node checks the operation against
   * that chain like any member's, so what the chain does not cover (command,
   * policy, expiry, revocation) is refused here and everywhere.
   */
  actAs<K extends OpKind>(
    signer: Signer,
    kind: K,
    args: Omit<OpArgs<K>, "at">,
    options: { via?: string } = {},
  ): Promise<TaskView> {
    return this.#act({ signer, label: signer.did, via: options.via }, kind, args);
  }

  /** `actAs`, resolving with the operation's CID as well (a reservation's receipt names it). */
  async actAsOp<K extends OpKind>(
    signer: Signer,
    kind: K,
    args: Omit<OpArgs<K>, "at">,
  ): Promise<{ cid: string; task: TaskView }> {
    let cid = "";
    const task = await this.#act({ signer, label: signer.did }, kind, args, (c) => cid = c);
    return { cid, task };
  }

  #act<K extends OpKind>(
    actor: Actor,
    kind: K,
    args: Omit<OpArgs<K>, "at">,
    signed?: (cid: string) => void,
  ): Promise<TaskView> {
    const command = OPS[kind].command;
    if (AGENT_OP_KINDS.has(kind)) throw new TypeError(`${kind} acts on an agent: use Space.agentOp`);
    const taskId = (args as unknown as { task: string }).task;
    const author = actor.signer.did;
    const first = this.#sameKey(author, command, args as Record<string, unknown>);
    if (first) return Promise.resolve(first);
    return this.#commit(taskId, async () => {
      const full = { ...args, ...this.#position() } as unknown as Record<string, Ipld>;
      parseTaskOp(command, full, "local", author); // bad input: InvalidInput, nothing written
      if (kind !== "create" && kind !== "witness" && !this.log.reducer.tasks.has(taskId)) {
        throw new NotFound(`no task ${taskId} in this space`);
      }
      const inv = await signIn(this.authority, actor, command, full, seconds(this.#deps.now()));
      signed?.(inv.cid.toString());
      return inv;
    }).catch((e) => this.#raced(e, author, command, args as Record<string, unknown>));
  }

  /**
   * Pause or resume an agent, signed by this node (or by `signer`, held on
   * it): every node refuses the agent's operations dated after a pause,
   * until a resume. Resolves once the operation is applied and durable.
   * `via` limits `signer` to chains whose last link that DID issued.
   */
  async agentOp(
    kind: AgentOpKind,
    args: { agent: string; reason?: string },
    signer?: Signer,
    via?: string,
  ): Promise<void> {
    const actor = signer ? { signer, label: signer.did, via } : this.#self;
    const command = OPS[kind].command;
    const inv = await this.#writes.commit(args.agent, async () => {
      const full = { ...args, ...this.#position() } as unknown as Record<string, Ipld>;
      parseTaskOp(command, full, "local", actor.signer.did); // bad input: InvalidInput, nothing written
      return await signIn(this.authority, actor, command, full, seconds(this.#deps.now()));
    });
    this.#deps.wrote?.(this, kind, inv);
    this.#emit({ type: "agents", agents: [args.agent] });
  }

  /**
   * Take an operation someone else signed (through the API): check it like
   * any operation from the network, apply it, write and flush it. Resolves
   * with the task after it; refuses with the reason otherwise.
   */
  async submit(bytes: Uint8Array, proofs?: ProofStore): Promise<TaskView> {
    const inv = await this.authority.validator.verifyInvocationSignature(bytes);
    const task = inv.args.task;
    if (typeof task !== "string") throw new InvalidInput("args.task", "is required");
    if (this.log.has(inv.cid.toString())) return this.#require(task); // a retry: already applied
    const first = this.#sameKey(inv.iss, inv.cmd, inv.args);
    if (first) return first; // a retry under the same idempotency key: the first one stands
    await this.#admitSigned(inv, proofs);
    return await this.#commit(task, () => Promise.resolve(inv)).catch((e) =>
      this.#raced(e, inv.iss, inv.cmd, inv.args)
    );
  }

  /**
   * Check an operation a client signed, before it is applied: dated within
   * the skew of this node's clock, and its chain valid now — which then goes
   * into the space document, so every node can check it too.
   */
  async #admitSigned(inv: Invocation, proofs?: ProofStore): Promise<void> {
    const at = inv.args.at;
    if (!isHlc(at)) throw new InvalidInput("args.at", "must be a hybrid clock timestamp [ms, counter]");
    if (!judgeTime(at[0], this.#deps.now()).ok) {
      throw new InvalidInput(
        "args.at",
        "is ahead of this node's clock by more than the allowed skew; check your clock",
      );
    }
    let chain: readonly Delegation[];
    try {
      ({ proofs: chain } = await this.authority.validator.validate(inv, { proofs, now: seconds(at[0]) }));
    } catch (e) {
      throw e instanceof UcanError ? new Forbidden(e.message) : e;
    }
    await this.addDelegations(chain.filter((d) => !this.authority.hasDelegation(d.cid)));
    this.#deps.hlc.observe(at);
  }

  /**
   * Sign as this node (or as `signer`, a principal held on this node, with
   * its chain recorded in the space), check, apply, write and flush an
   * operation of another family of the log (patches, …); `at` and `after`
   * are filled in. Its family checks the args first, so bad input writes
   * nothing. Resolves with the family and object it acted on once durable;
   * refuses with the reason otherwise. `via` limits `signer` to chains
   * whose last link that DID issued (a bridge acting for one person).
   */
  async perform(
    command: string,
    args: Record<string, unknown>,
    signer?: Signer,
    via?: string,
  ): Promise<{ family: string; object: string; cid: string }> {
    const actor = signer ? { signer, label: signer.did, via } : this.#self;
    const author = actor.signer.did;
    const { family, object } = this.log.parse(command, { ...args, ...this.#position() }, "local", author);
    const inv = await this.#writes.commit(object, async () => {
      const full = { ...args, ...this.#position() } as unknown as Record<string, Ipld>;
      this.log.parse(command, full, "local", author);
      return await signIn(this.authority, actor, command, full, seconds(this.#deps.now()));
    });
    this.#emit({ type: "objects", family: family.name, objects: [object] });
    return { family: family.name, object, cid: inv.cid.toString() };
  }

  /**
   * Sign an operation of another family as this node, checked as `perform`
   * checks it, without applying it here: for one a peer must take through
   * its API along with something only that peer holds (a merge with its
   * merge commit's objects). It comes back through sync once the peer took
   * it. Resolves with the invocation and the chain that proves it.
   */
  async sign(command: string, args: Record<string, unknown>): Promise<{ invocation: Invocation; chain: Delegation[] }> {
    const full = { ...args, ...this.#position() } as unknown as Record<string, Ipld>;
    this.log.parse(command, full, "local", this.#self.signer.did); // bad input: nothing signed
    const invocation = await signIn(this.authority, this.#self, command, full, seconds(this.#deps.now()));
    const chain = invocation.prf.map((cid) => this.authority.delegation(cid));
    return { invocation, chain: chain.filter((d): d is Delegation => d !== undefined) };
  }

  /**
   * Take an operation of another family (a repository push, a patch
   * operation) someone else signed (through the API): checked like
   * `submit`, applied, written to its object's bucket and flushed. Resolves
   * with what it acted on; a retry of one already taken is not taken again
   * (its verdict is `log.outcome(cid)`); refuses with the reason otherwise.
   */
  async submitOp(bytes: Uint8Array, proofs?: ProofStore): Promise<{ cid: string; family: string; object: string }> {
    const inv = await this.authority.validator.verifyInvocationSignature(bytes);
    const cid = inv.cid.toString();
    const { family, object } = this.log.parse(inv.cmd, inv.args, cid, inv.iss); // bad input: nothing written
    if (family.name === TASK_FAMILY) throw new InvalidInput("cmd", "a task operation goes to its task route");
    if (!this.log.has(cid)) {
      await this.#admitSigned(inv, proofs);
      await this.#writes.commit(object, () => Promise.resolve(inv));
      this.#emit({ type: "objects", family: family.name, objects: [object] });
    }
    return { cid, family: family.name, object };
  }

  /** The task an earlier create by `author` with the same idempotency key made, if this is such a create. */
  #sameKey(author: string, command: string, args: Record<string, unknown>): TaskView | undefined {
    const key = args.idempotencyKey;
    if (command !== OPS.create.command || typeof key !== "string") return undefined;
    const task = this.log.reducer.byIdempotencyKey(author, key);
    return task ? this.task(task.id) : undefined;
  }

  /** A create refused because a concurrent one with the same key landed first: that one is the answer. */
  #raced(e: unknown, author: string, command: string, args: Record<string, unknown>): TaskView {
    const first = e instanceof Conflict ? this.#sameKey(author, command, args) : undefined;
    if (!first) throw e;
    return first;
  }

  /**
   * Apply, write and flush one operation in local order; resolves with the
   * task after it. Another author's operation that needs a witness gets one.
   */
  async #commit(taskId: string, make: () => Promise<Invocation>): Promise<TaskView> {
    const inv = await this.#writes.commit(taskId, make, (applied) => {
      if (applied.cmd === OPS.create.command) this.#emit({ type: "creating", tasks: [taskId] });
    });
    if (inv.iss !== this.#deps.signer.did && this.log.needsWitness(inv.cid.toString())) {
      this.#ingest.witnessSoon(taskId);
    }
    const kind = opKindOf(inv.cmd) as OpKind;
    this.#deps.wrote?.(this, kind, inv);
    this.#emit({ type: "tasks", tasks: [taskId] });
    return this.task(taskId) as TaskView;
  }

  createTask(input: CreateTaskInput): Promise<TaskView> {
    return this.act("create", { task: newTaskId(), ...input } as Omit<OpArgs<"create">, "at">);
  }

  /**
   * Claim a task with a lease of `leaseMs`; resolves with the task (its
   * lease carries the fencing token). `as`: claimed by another principal
   * held on this node (a bridge), as `actAs` signs.
   */
  claim(taskId: string, leaseMs = 60_000, as?: Signer): Promise<TaskView> {
    const task = this.#require(taskId);
    const args = { task: task.id, fence: task.fence + 1, expires: this.#deps.now() + leaseMs };
    return as ? this.actAs(as, "claim", args) : this.act("claim", args);
  }

  renew(taskId: string, fence: number, leaseMs = 60_000, as?: Signer): Promise<TaskView> {
    const args = { task: this.#require(taskId).id, fence, expires: this.#deps.now() + leaseMs };
    return as ? this.actAs(as, "renew", args) : this.act("renew", args);
  }

  #require(taskId: string) {
    const t = this.task(taskId);
    if (!t) throw new NotFound(`no task ${taskId} in this space`);
    return t;
  }

  // ---- membership ----

  /**
   * Delegate `command` (default: everything in the space) to `audience`,
   * recorded in the space document so every node can check what they do.
   */
  async invite(options: {
    audience: string;
    command?: string;
    policy?: Ipld[];
    expiration?: number | null;
    name?: string;
    kind?: "member" | "device" | "agent";
  }): Promise<{ delegation: Delegation; chain: Delegation[] }> {
    const command = options.command ?? Commands.all;
    const [chain] = chainsOf(this.authority, this.#self, command, seconds(this.#deps.now()));
    const d = await delegate({
      issuer: this.#deps.signer,
      audience: options.audience,
      subject: this.id,
      command,
      policy: options.policy,
      expiration: options.expiration ?? null,
      meta: { kind: options.kind ?? "member", ...(options.name ? { name: options.name } : {}) },
    });
    await this.addDelegations([d, ...chain]);
    return { delegation: d, chain: [...chain, d] };
  }

  /** Record delegations in the space document (already-known ones are skipped). */
  async addDelegations(delegations: Iterable<Delegation>): Promise<void> {
    const fresh = [...delegations].filter((d) => !(d.cid.toString() in (this.#handle.doc().delegations ?? {})));
    if (fresh.length === 0) return;
    for (const d of fresh) this.authority.trustDelegation(d);
    this.#handle.change((doc) => {
      for (const d of fresh) doc.delegations[d.cid.toString()] = d.bytes;
    });
    await this.#deps.repo.flush([this.#handle.documentId]);
    await this.#ingest.membershipChanged();
  }

  /**
   * Revoke a delegation this node issued (or that sits below one it issued).
   * The record names what this node has seen: operations signed under the
   * delegation before that stay; later ones are refused everywhere. With
   * `voidSince`, everything it signed from that time on is void too, seen or
   * not — for a stolen key; it destroys work, so say so before using it.
   */
  async revoke(delegationCid: string, options: { voidSince?: Hlc } = {}): Promise<void> {
    const target = [...this.authority.delegations].find((d) => d.cid.toString() === delegationCid);
    if (!target) throw new NotFound(`no delegation ${delegationCid} in this space`);
    if (options.voidSince !== undefined && !isHlc(options.voidSince)) {
      throw new InvalidInput("voidSince", "must be a hybrid clock timestamp [ms, counter]");
    }
    const path = this.authority.pathTo(target);
    if (!path) throw new Forbidden("that delegation has no chain from the space root");
    const position = this.#position() as unknown as Record<string, Ipld>;
    if (options.voidSince) position.void = options.voidSince as unknown as Ipld;
    const record = await signRevocation(this.#deps.signer, path, {
      issuedAt: seconds(this.#deps.now()),
      meta: { weft: position },
    });
    await this.recordRevocation(record.bytes);
  }

  /**
   * Apply a signed revocation record (this node's own, or one a peer sent
   * to tell this node it was revoked): checked against this space's
   * delegations, then kept in the space document like any synced one.
   * Resolves false if it revoked nothing new; rejects if it is invalid.
   */
  async recordRevocation(bytes: Uint8Array): Promise<boolean> {
    if (!(await this.authority.addRevocation(bytes))) return false;
    const cid = cidOf(bytes).toString();
    this.#handle.change((doc) => {
      doc.revocations[cid] = bytes;
    });
    await this.#deps.repo.flush([this.#handle.documentId]);
    await this.#ingest.membershipChanged();
    return true;
  }

  async rename(name: string): Promise<void> {
    const at = this.#deps.hlc.now();
    const args = { op: "rename", name, at: at as unknown as Ipld };
    const inv = await signIn(this.authority, this.#self, Commands.spaceAdmin, args, seconds(this.#deps.now()));
    this.#handle.change((doc) => {
      doc.ops[inv.cid.toString()] = inv.bytes;
    });
    await this.#deps.repo.flush([this.#handle.documentId]);
    this.#ingest.setName(name, at, inv.cid.toString());
  }

  /** Flush every document of this space to storage. */
  flush(): Promise<void> {
    return this.#deps.repo.flush(this.documentIds);
  }
}
