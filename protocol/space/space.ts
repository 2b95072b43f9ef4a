/**
 * A space as one node sees it: its automerge documents, the authority
 * derived from them, and its task log. Reads come from the reduced state;
 * every write is a UCAN invocation signed by this node with a chain it
 * holds, checked like anyone else's, written to the task's bucket document
 * and flushed to storage before the call resolves.
 */
import type { AutomergeUrl, DocHandle, DocumentId, Repo } from "@automerge/automerge-repo";
import type { Patch } from "@automerge/automerge";
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
import { type OpArgs, type OpKind, opKindOf, OPS, parseTaskOp, type TaskOp } from "../tasks/ops.ts";
import { InvalidInput } from "../schema/input-checks.ts";
import { nameProblem, neutralized } from "../schema/names.ts";
import { TaskLog } from "../tasks/log.ts";
import { queryTasks, type TaskFilter, type TaskView, view } from "../tasks/query.ts";
import { SpaceAuthority } from "./authority.ts";
import { cidOf } from "../codec/cid.ts";
import { type BucketDoc, bucketOf, DEFAULT_BUCKETS, type SpaceDoc } from "./docs.ts";

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
  /** This node wrote an operation (e.g. to gossip lease renewals). */
  wrote?(space: Space, kind: OpKind, bytes: Uint8Array): void;
  /** This node changed one of the space's documents (e.g. to announce heads). */
  changed?(space: Space, documentId: string): void;
}

export class Forbidden extends WeftError {
  constructor(message: string) {
    super("Forbidden", "cap/missing", message);
  }
}

export class Conflict extends WeftError {
  constructor(message: string) {
    super("Conflict", "task/conflict", message);
  }
}

export class NotFound extends WeftError {
  constructor(message: string) {
    super("NotFound", "not-found", message);
  }
}

export type SpaceEvent =
  | { type: "tasks"; tasks: string[] }
  | { type: "members" }
  | { type: "name"; name: string };

const GENESIS = "genesis";
/**
 * How long a node gathers others' operations before witnessing them in one
 * operation: none beyond the current burst, since the sooner a claim is
 * witnessed, the smaller the window for a back-dated rival.
 */
const WITNESS_DELAY_MS = 0;
const MAX_SPACE_NAME = 200;
const seconds = (ms: number) => Math.floor(ms / 1000);

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
  readonly log: TaskLog;
  readonly #deps: SpaceDeps;
  readonly #handle: DocHandle<SpaceDoc>;
  #buckets: DocHandle<BucketDoc>[] = [];
  #name = "";
  #nameAt: readonly [number, number, string] = [0, 0, ""];
  readonly #listeners = new Set<(e: SpaceEvent) => void>();
  /** Serializes document processing so events apply in order. */
  #queue: Promise<void> = Promise.resolve();

  private constructor(deps: SpaceDeps, id: string, handle: DocHandle<SpaceDoc>) {
    this.#deps = deps;
    this.id = id;
    this.#handle = handle;
    this.authority = new SpaceAuthority({ space: id, verifier: deps.verifier, clock: () => seconds(deps.now()) });
    this.log = new TaskLog(this.authority, deps.diagnostics, { now: deps.now, onLate: (op) => this.#late(op) });
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
    return this.#name;
  }

  /** All document ids of this space: the space document and its buckets. */
  get documentIds(): DocumentId[] {
    return [this.#handle.documentId, ...this.#buckets.map((b) => b.documentId)];
  }

  /** Read the genesis, then every delegation, revocation and operation, and watch for more. */
  async #attach(created?: DocHandle<BucketDoc>[]): Promise<void> {
    const doc = this.#handle.doc();
    const bucketIds = await this.#verifyGenesis(doc.genesis);
    for (const id of bucketIds) this.#deps.registerDocument(id, this.id);
    await this.#ingestSpaceDoc(doc);
    this.#handle.on("change", ({ doc, patches }) => this.#enqueue(() => this.#onSpaceChange(doc, patches)));
    this.#buckets = created ??
      await Promise.all(bucketIds.map((id) => this.#deps.repo.find<BucketDoc>(id as DocumentId)));
    for (const [i, b] of this.#buckets.entries()) {
      await this.#ingestOps(Object.entries(b.doc().ops ?? {}));
      b.on("change", ({ doc, patches }) => this.#enqueue(() => this.#onBucketChange(i, doc, patches)));
    }
  }

  async #verifyGenesis(bytes: Uint8Array | undefined): Promise<string[]> {
    if (!(bytes instanceof Uint8Array)) {
      throw new WeftError("InvalidSpace", "space/invalid", "the space has no genesis");
    }
    const validator = this.authority.validator;
    const inv = await validator.verifyInvocationSignature(bytes);
    const args = inv.args;
    if (
      inv.iss !== this.id || inv.sub !== this.id || inv.cmd !== Commands.spaceAdmin || args.op !== GENESIS ||
      typeof args.name !== "string" || !Array.isArray(args.buckets) || args.buckets.length === 0 ||
      args.buckets.length > 1024 || !args.buckets.every((b) => typeof b === "string") || !isHlc(args.at) ||
      (args.grace !== undefined && !(Number.isSafeInteger(args.grace) && (args.grace as number) >= 0))
    ) {
      throw new WeftError("InvalidSpace", "space/invalid", "the space genesis is not signed by the space root");
    }
    if (args.grace !== undefined) this.log.setGrace((args.grace as number) * 1000);
    // A name with control characters is shown neutralized rather than lose the space it names.
    this.#setName(neutralized(args.name), args.at, inv.cid.toString());
    return args.buckets as string[];
  }

  #setName(name: string, at: readonly [number, number], cid: string): void {
    const [ms, c, id] = this.#nameAt;
    if (at[0] > ms || (at[0] === ms && (at[1] > c || (at[1] === c && cid > id)))) {
      this.#nameAt = [at[0], at[1], cid];
      if (name !== this.#name) {
        this.#name = name;
        this.#emit({ type: "name", name });
      }
    }
  }

  #enqueue(work: () => Promise<void>): void {
    this.#queue = this.#queue.then(work).catch((e) => {
      this.#deps.diagnostics.refuse({
        kind: "op",
        what: "document change",
        code: "space/error",
        reason: String(e),
        space: this.id,
      });
    });
  }

  /** Wait until every document change seen so far has been processed. */
  settled(): Promise<void> {
    return this.#queue;
  }

  async #ingestSpaceDoc(doc: SpaceDoc): Promise<void> {
    let members = false;
    for (const [cid, bytes] of Object.entries(doc.delegations ?? {})) {
      if (await this.#addDelegation(cid, bytes)) members = true;
    }
    for (const [cid, bytes] of Object.entries(doc.revocations ?? {})) {
      if (await this.#addRevocation(cid, bytes)) members = true;
    }
    for (const [cid, bytes] of Object.entries(doc.ops ?? {})) await this.#addSpaceOp(cid, bytes);
    if (members) await this.#membershipChanged();
  }

  async #onSpaceChange(doc: SpaceDoc, patches: Patch[]): Promise<void> {
    let members = false;
    for (const p of patches) {
      if (p.action !== "put" || p.path.length !== 2) continue;
      const [field, cid] = p.path as [string, string];
      const bytes = (doc[field as keyof SpaceDoc] as Record<string, Uint8Array> | undefined)?.[cid];
      if (!(bytes instanceof Uint8Array)) continue;
      if (field === "delegations" && (await this.#addDelegation(cid, bytes))) members = true;
      else if (field === "revocations" && (await this.#addRevocation(cid, bytes))) members = true;
      else if (field === "ops") await this.#addSpaceOp(cid, bytes);
    }
    if (members) await this.#membershipChanged();
  }

  async #addDelegation(cid: string, bytes: unknown): Promise<boolean> {
    try {
      if (!(bytes instanceof Uint8Array)) throw new UcanError("MalformedToken", "not bytes");
      const d = await this.authority.addDelegation(bytes);
      if (d.cid.toString() !== cid) {
        throw new UcanError("MalformedToken", `stored under ${cid} but its CID is ${d.cid}`);
      }
      return true;
    } catch (e) {
      this.#refuse("delegation " + cid, e);
      return false;
    }
  }

  async #addRevocation(cid: string, bytes: unknown): Promise<boolean> {
    try {
      if (!(bytes instanceof Uint8Array)) throw new UcanError("MalformedToken", "not bytes");
      return await this.authority.addRevocation(bytes);
    } catch (e) {
      this.#refuse("revocation " + cid, e);
      return false;
    }
  }

  async #addSpaceOp(cid: string, bytes: unknown): Promise<void> {
    try {
      if (!(bytes instanceof Uint8Array)) throw new UcanError("MalformedToken", "not bytes");
      const inv = await this.authority.validator.verifyInvocationSignature(bytes);
      const args = inv.args;
      if (inv.cid.toString() !== cid || inv.sub !== this.id || inv.cmd !== Commands.spaceAdmin) {
        throw new UcanError("InvalidClaim", "not a space operation of this space");
      }
      if (args.op !== "rename" || nameProblem(args.name, MAX_SPACE_NAME) !== undefined || !isHlc(args.at)) {
        throw new UcanError("InvalidPayload", "unknown space operation");
      }
      const time = judgeTime(args.at[0], this.#deps.now());
      if (!time.ok) {
        if ("refuse" in time) throw new UcanError("TooEarly", time.refuse);
        setTimeout(() => this.#enqueue(() => this.#addSpaceOp(cid, bytes)), time.wait + 10);
        return;
      }
      await this.authority.validator.validate(inv, { now: seconds(args.at[0]) });
      this.#setName(args.name as string, args.at, cid);
    } catch (e) {
      this.#refuse("space op " + cid, e);
    }
  }

  async #membershipChanged(): Promise<void> {
    await this.authority.retryPendingRevocations();
    await this.log.revalidate();
    this.#deps.authorityChanged(this.id);
    this.#emit({ type: "members" });
    this.#emit({ type: "tasks", tasks: [...this.log.reducer.tasks.keys()] });
  }

  async #onBucketChange(_bucket: number, doc: BucketDoc, patches: Patch[]): Promise<void> {
    const entries: [string, Uint8Array][] = [];
    for (const p of patches) {
      if (p.action === "put" && p.path.length === 2 && p.path[0] === "ops") {
        const cid = p.path[1] as string;
        entries.push([cid, doc.ops[cid]]);
      }
    }
    await this.#ingestOps(entries);
  }

  /** An operation that arrived outside the documents (e.g. a lease renewal on gossip). */
  ingest(bytes: Uint8Array): Promise<void> {
    return new Promise((resolve) =>
      this.#enqueue(async () => {
        try {
          await this.#ingestOps([[undefined, bytes]]);
        } finally {
          resolve();
        }
      })
    );
  }

  async #ingestOps(entries: Iterable<[string | undefined, unknown]>): Promise<void> {
    const list: [string | undefined, Uint8Array][] = [];
    for (const [cid, bytes] of entries) {
      if (cid !== undefined && this.log.has(cid)) continue;
      if (bytes instanceof Uint8Array) list.push([cid, bytes]);
      else this.#refuse("operation " + cid, new UcanError("MalformedToken", "not bytes"));
    }
    const touched = new Set<string>();
    for (const r of await this.log.ingestAll(list)) {
      if (r.op) {
        this.#deps.hlc.observe(r.op.args.at);
        touched.add(r.op.args.task);
        if (r.op.author !== this.#deps.signer.did && this.log.needsWitness(r.op.cid)) this.#witnessSoon(r.op.args.task);
      }
    }
    if (touched.size > 0) this.#emit({ type: "tasks", tasks: [...touched] });
  }

  /** An operation that waited for a parent or for its time has joined the log. */
  #late(op: TaskOp): void {
    this.#deps.hlc.observe(op.args.at);
    if (op.author !== this.#deps.signer.did && this.log.needsWitness(op.cid)) this.#witnessSoon(op.args.task);
    this.#emit({ type: "tasks", tasks: [op.args.task] });
  }

  #witnessTimer?: ReturnType<typeof setTimeout>;

  /**
   * Another author's claim, or work under authority that will end, arrived:
   * record that this node has seen it (one witness operation names every
   * head, so a burst costs one). That is what lets every node tell a claim
   * the mesh saw first from one back-dated later, and an offline signer's
   * work from a thief's. Only nodes that may claim write witnesses.
   */
  #witnessSoon(task: string): void {
    if (this.#witnessTimer !== undefined) return;
    if (this.authority.chainsFor(this.#deps.signer.did, Commands.taskWitness, seconds(this.#deps.now())).length === 0) {
      return;
    }
    this.#witnessTimer = setTimeout(() => {
      this.#witnessTimer = undefined;
      this.act("witness", { task }).catch(() => this.#deps.diagnostics.count("witness.failed"));
    }, WITNESS_DELAY_MS);
  }

  #refuse(what: string, e: unknown): void {
    this.#deps.diagnostics.refuse({
      kind: "op",
      what,
      code: e instanceof WeftError ? e.code : "op/invalid",
      reason: (e as Error).message,
      space: this.id,
    });
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

  /** The chains this node can use for `command`, shortest first; Forbidden if none. */
  #chains(command: string): Delegation[][] {
    const chains = this.authority.chainsFor(this.#deps.signer.did, command, seconds(this.#deps.now()));
    if (chains.length === 0) {
      throw new Forbidden(
        `this node (${this.#deps.signer.did}) holds no delegation for ${command} in space ${this.id}`,
      );
    }
    return chains;
  }

  /** Sign an invocation with the first chain whose policies accept `args`. */
  async #sign(command: string, args: Record<string, Ipld>): Promise<Invocation> {
    let lastError: unknown;
    for (const chain of this.#chains(command)) {
      const inv = await invoke({
        issuer: this.#deps.signer,
        subject: this.id,
        command,
        args,
        proofs: chain,
        expiration: null,
        issuedAt: seconds(this.#deps.now()),
      });
      this.authority.validator.trust(inv);
      try {
        await this.authority.validator.validate(inv);
        return inv;
      } catch (e) {
        lastError = e;
      }
    }
    const e = lastError as UcanError;
    throw new Forbidden(`not allowed to ${command}: ${e.message}`);
  }

  /** Where a new operation of this node stands: what it has seen (the log's heads) and a time after all of it. */
  #position(): { at: Hlc; after: string[] } {
    const after = this.log.heads(); // newest first
    const newest = after.length > 0 ? this.log.timeOf(after[0]) : undefined;
    if (newest) this.#deps.hlc.observe(newest);
    return { at: this.#deps.hlc.now(), after };
  }

  /** Local operations are stamped, signed and applied one at a time, so they reach the log in clock order. */
  #local: Promise<unknown> = Promise.resolve();

  /** Sign, check, write and flush one task operation; resolves with the task after it. */
  act<K extends OpKind>(kind: K, args: Omit<OpArgs<K>, "at">): Promise<TaskView> {
    const command = OPS[kind].command;
    const taskId = (args as { task: string }).task;
    const first = this.#sameKey(this.#deps.signer.did, command, args as Record<string, unknown>);
    if (first) return Promise.resolve(first);
    return this.#commit(taskId, async () => {
      const full = { ...args, ...this.#position() } as unknown as Record<string, Ipld>;
      parseTaskOp(command, full, "local", this.#deps.signer.did); // bad input: InvalidInput, nothing written
      if (kind !== "create" && !this.log.reducer.tasks.has(taskId)) {
        throw new NotFound(`no task ${taskId} in this space`);
      }
      return await this.#sign(command, full);
    }).catch((e) => this.#raced(e, this.#deps.signer.did, command, args as Record<string, unknown>));
  }

  /**
   * Take an operation someone else signed (through the API): check it like
   * any operation from the network, apply it, write and flush it. Resolves
   * with the task after it; refuses with the reason otherwise.
   */
  async submit(bytes: Uint8Array, proofs?: ProofStore): Promise<TaskView> {
    const validator = this.authority.validator;
    const inv = await validator.verifyInvocationSignature(bytes);
    const task = inv.args.task;
    if (typeof task !== "string") throw new InvalidInput("args.task", "is required");
    if (this.log.has(inv.cid.toString())) return this.#require(task); // a retry: already applied
    const first = this.#sameKey(inv.iss, inv.cmd, inv.args);
    if (first) return first; // a retry under the same idempotency key: the first one stands
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
      ({ proofs: chain } = await validator.validate(inv, { proofs, now: seconds(at[0]) }));
    } catch (e) {
      throw e instanceof UcanError ? new Forbidden(e.message) : e;
    }
    // The author's chain goes into the space document, so every node can check it too.
    await this.addDelegations(chain.filter((d) => !this.authority.hasDelegation(d.cid)));
    this.#deps.hlc.observe(at);
    const view = await this.#commit(task, () => Promise.resolve(inv)).catch((e) =>
      this.#raced(e, inv.iss, inv.cmd, inv.args)
    );
    if (inv.iss !== this.#deps.signer.did && this.log.needsWitness(inv.cid.toString())) this.#witnessSoon(task);
    return view;
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
   * Apply one operation in local order (stamping, signing and applying are
   * serialized so operations reach the log in clock order), then write it.
   */
  async #commit(taskId: string, make: () => Promise<Invocation>): Promise<TaskView> {
    const apply = async (): Promise<Invocation> => {
      const inv = await make();
      const result = await this.log.ingest(inv.bytes, undefined, { verdict: true });
      if (result.status === "applied") return inv;
      if (result.code === "task/conflict") throw new Conflict(result.reason ?? "the operation was refused");
      if (result.code?.startsWith("input/")) throw new InvalidInput("args", result.reason ?? "is invalid");
      throw new Forbidden(result.reason ?? "the operation was refused");
    };
    this.#signing++;
    const turn = this.#local.then(apply, apply).finally(() => this.#signing--);
    this.#local = turn.catch(() => {});
    const inv = await turn;
    await this.#write(bucketOf(taskId, this.#buckets.length), inv);
    const kind = opKindOf(inv.cmd) as OpKind;
    this.#deps.wrote?.(this, kind, inv.bytes);
    this.#emit({ type: "tasks", tasks: [taskId] });
    return this.task(taskId) as TaskView;
  }

  /** Local operations being stamped and signed right now. */
  #signing = 0;
  /** Operations waiting to be written, by bucket. */
  #writes = new Map<number, Invocation[]>();
  #written: Promise<void> | undefined;
  #release?: () => void;

  /**
   * Write an operation to its bucket document and flush. A batch is written
   * once no other local operation is being signed (or after 20 ms under a
   * steady stream), so a burst shares one document change per bucket and
   * one flush, and peers get it in one sync round rather than one each.
   */
  #write(bucket: number, inv: Invocation): Promise<void> {
    const list = this.#writes.get(bucket) ?? [];
    list.push(inv);
    this.#writes.set(bucket, list);
    if (!this.#written) {
      const ready = new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 20);
        this.#release = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#written = ready.then(() => this.#writeBatch());
    }
    if (this.#signing === 0) this.#release?.();
    return this.#written;
  }

  async #writeBatch(): Promise<void> {
    const batch = this.#writes;
    this.#writes = new Map();
    this.#written = undefined;
    this.#release = undefined;
    const ids: DocumentId[] = [];
    for (const [i, invs] of batch) {
      const handle = this.#buckets[i];
      handle.change((d) => {
        for (const x of invs) d.ops[x.cid.toString()] = x.bytes;
      });
      ids.push(handle.documentId);
    }
    await this.#deps.repo.flush(ids);
    for (const id of ids) this.#deps.changed?.(this, id);
  }

  createTask(input: CreateTaskInput): Promise<TaskView> {
    return this.act("create", { task: newTaskId(), ...input } as Omit<OpArgs<"create">, "at">);
  }

  /** Claim a task with a lease of `leaseMs`; resolves with the task (its lease carries the fencing token). */
  claim(taskId: string, leaseMs = 60_000): Promise<TaskView> {
    const task = this.#require(taskId);
    return this.act("claim", { task: task.id, fence: task.fence + 1, expires: this.#deps.now() + leaseMs });
  }

  renew(taskId: string, fence: number, leaseMs = 60_000): Promise<TaskView> {
    return this.act("renew", { task: this.#require(taskId).id, fence, expires: this.#deps.now() + leaseMs });
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
    const [chain] = this.#chains(command);
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
    await this.#membershipChanged();
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
    const path = this.#pathTo(target);
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
    await this.#membershipChanged();
    return true;
  }

  /** A root-first chain ending at `target`. */
  #pathTo(target: Delegation): Delegation[] | undefined {
    if (target.iss === this.id) return [target];
    const all = [...this.authority.delegations];
    const walk = (d: Delegation, seen: Set<string>): Delegation[] | undefined => {
      if (d.iss === this.id) return [d];
      for (const parent of all) {
        if (parent.aud !== d.iss || seen.has(parent.cid.toString())) continue;
        const path = walk(parent, new Set([...seen, parent.cid.toString()]));
        if (path) return [...path, d];
      }
      return undefined;
    };
    return walk(target, new Set());
  }

  async rename(name: string): Promise<void> {
    const at = this.#deps.hlc.now();
    const inv = await this.#sign(Commands.spaceAdmin, { op: "rename", name, at: at as unknown as Ipld });
    this.#handle.change((doc) => {
      doc.ops[inv.cid.toString()] = inv.bytes;
    });
    await this.#deps.repo.flush([this.#handle.documentId]);
    this.#setName(name, at, inv.cid.toString());
  }

  /** Flush every document of this space to storage. */
  flush(): Promise<void> {
    return this.#deps.repo.flush(this.documentIds);
  }
}
