/**
 * What a space takes in from its documents: the genesis, delegations,
 * revocations and space operations of the space document, and the task
 * operations of its buckets. Each is verified before it is applied; what
 * fails is refused and counted, never trusted. Changes are processed one at
 * a time, in order; operations waiting for a parent or for their time join
 * the log late, and another author's claim is witnessed soon after.
 */
import type { Patch } from "@automerge/automerge";
import { WeftError } from "../errors.ts";
import { Commands } from "../ucan/commands.ts";
import { UcanError } from "../ucan/errors.ts";
import { type HybridClock, isHlc } from "../tasks/hlc.ts";
import { judgeTime } from "../tasks/time-gate.ts";
import type { LogEntry, OpLog } from "../tasks/log.ts";
import type { LogOp } from "../tasks/family.ts";
import type { Invocation } from "../ucan/invocation.ts";
import { TASK_FAMILY } from "../tasks/task-family.ts";
import { isAgentOp } from "../tasks/ops.ts";
import { nameProblem, neutralized } from "../schema/names.ts";
import type { Diagnostics } from "../diagnostics.ts";
import type { SpaceAuthority } from "./authority.ts";
import type { BucketDoc, SpaceDoc } from "./docs.ts";

export type SpaceEvent =
  | { type: "tasks"; tasks: string[] }
  /**
   * A task was created here and its creation is being made durable (a "tasks" event follows once it is): an
   * operation this node commits while handling it is made durable in the same write (the scheduler's claim on it).
   * Nothing may be acknowledged, or run, on the strength of this event alone.
   */
  | { type: "creating"; tasks: string[] }
  /** Objects of another operation family (repositories, …) changed. */
  | { type: "objects"; family: string; objects: string[] }
  /** Agents were paused or resumed (their DIDs). */
  | { type: "agents"; agents: string[] }
  | { type: "members" }
  | { type: "name"; name: string };

export const GENESIS = "genesis";
export const MAX_SPACE_NAME = 200;
/**
 * How long a node gathers others' operations before witnessing them in one
 * operation: none beyond the current burst, since the sooner a claim is
 * witnessed, the smaller the window for a back-dated rival.
 */
const WITNESS_DELAY_MS = 0;
export const seconds = (ms: number) => Math.floor(ms / 1000);

export interface IngestOptions {
  /** The space's root DID. */
  space: string;
  authority: SpaceAuthority;
  log: OpLog;
  diagnostics: Diagnostics;
  hlc: HybridClock;
  /** Wall clock, Unix ms. */
  now: () => number;
  /** This node's DID: its own operations need no witness. */
  self: string;
  /** Membership changed: the sync layer re-checks sessions. */
  authorityChanged(): void;
  /** Write a witness operation as this node (on `task`, when it witnesses one: that task's bucket holds it). */
  witness(task?: string): Promise<unknown>;
  emit(e: SpaceEvent): void;
}

export class SpaceIngest {
  readonly #o: IngestOptions;
  #name = "";
  #nameAt: readonly [number, number, string] = [0, 0, ""];
  /** Serializes document processing so events apply in order. */
  #queue: Promise<void> = Promise.resolve();
  #witnessTimer?: ReturnType<typeof setTimeout>;

  constructor(options: IngestOptions) {
    this.#o = options;
  }

  get name(): string {
    return this.#name;
  }

  /** Check the genesis is the root's own; returns the bucket document ids it names. */
  async genesis(bytes: Uint8Array | undefined): Promise<string[]> {
    if (!(bytes instanceof Uint8Array)) {
      throw new WeftError("InvalidSpace", "space/invalid", "the space has no genesis");
    }
    const { space, authority, log } = this.#o;
    const inv = await authority.validator.verifyInvocationSignature(bytes);
    const args = inv.args;
    if (
      inv.iss !== space || inv.sub !== space || inv.cmd !== Commands.spaceAdmin || args.op !== GENESIS ||
      typeof args.name !== "string" || !Array.isArray(args.buckets) || args.buckets.length === 0 ||
      args.buckets.length > 1024 || !args.buckets.every((b) => typeof b === "string") || !isHlc(args.at) ||
      (args.grace !== undefined && !(Number.isSafeInteger(args.grace) && (args.grace as number) >= 0))
    ) {
      throw new WeftError("InvalidSpace", "space/invalid", "the space genesis is not signed by the space root");
    }
    if (args.grace !== undefined) log.setGrace((args.grace as number) * 1000);
    // A name with control characters is shown neutralized rather than lose the space it names.
    this.setName(neutralized(args.name), args.at, inv.cid.toString());
    return args.buckets as string[];
  }

  /** The latest name wins, by (HLC time, CID). */
  setName(name: string, at: readonly [number, number], cid: string): void {
    const [ms, c, id] = this.#nameAt;
    if (at[0] > ms || (at[0] === ms && (at[1] > c || (at[1] === c && cid > id)))) {
      this.#nameAt = [at[0], at[1], cid];
      if (name !== this.#name) {
        this.#name = name;
        this.#o.emit({ type: "name", name });
      }
    }
  }

  enqueue(work: () => Promise<void>): void {
    this.#queue = this.#queue.then(work).catch((e) => {
      this.#o.diagnostics.refuse({
        kind: "op",
        what: "document change",
        code: "space/error",
        reason: String(e),
        space: this.#o.space,
      });
    });
  }

  /** Wait until every document change seen so far has been processed. */
  settled(): Promise<void> {
    return this.#queue;
  }

  /** Everything in the space document as it is now. */
  async spaceDoc(doc: SpaceDoc): Promise<void> {
    let members = false;
    for (const [cid, bytes] of Object.entries(doc.delegations ?? {})) {
      if (await this.#addDelegation(cid, bytes)) members = true;
    }
    for (const [cid, bytes] of Object.entries(doc.revocations ?? {})) {
      if (await this.#addRevocation(cid, bytes)) members = true;
    }
    for (const [cid, bytes] of Object.entries(doc.ops ?? {})) await this.#addSpaceOp(cid, bytes);
    if (members) await this.membershipChanged();
  }

  /** What a change to the space document added. */
  async spaceChange(doc: SpaceDoc, patches: Patch[]): Promise<void> {
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
    if (members) await this.membershipChanged();
  }

  async #addDelegation(cid: string, bytes: unknown): Promise<boolean> {
    try {
      if (!(bytes instanceof Uint8Array)) throw new UcanError("MalformedToken", "not bytes");
      const d = await this.#o.authority.addDelegation(bytes);
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
      return await this.#o.authority.addRevocation(bytes);
    } catch (e) {
      this.#refuse("revocation " + cid, e);
      return false;
    }
  }

  async #addSpaceOp(cid: string, bytes: unknown): Promise<void> {
    try {
      if (!(bytes instanceof Uint8Array)) throw new UcanError("MalformedToken", "not bytes");
      const validator = this.#o.authority.validator;
      const inv = await validator.verifyInvocationSignature(bytes);
      const args = inv.args;
      if (inv.cid.toString() !== cid || inv.sub !== this.#o.space || inv.cmd !== Commands.spaceAdmin) {
        throw new UcanError("InvalidClaim", "not a space operation of this space");
      }
      if (args.op !== "rename" || nameProblem(args.name, MAX_SPACE_NAME) !== undefined || !isHlc(args.at)) {
        throw new UcanError("InvalidPayload", "unknown space operation");
      }
      const time = judgeTime(args.at[0], this.#o.now());
      if (!time.ok) {
        if ("refuse" in time) throw new UcanError("TooEarly", time.refuse);
        setTimeout(() => this.enqueue(() => this.#addSpaceOp(cid, bytes)), time.wait + 10);
        return;
      }
      await validator.validate(inv, { now: seconds(args.at[0]) });
      this.setName(args.name as string, args.at, cid);
    } catch (e) {
      this.#refuse("space op " + cid, e);
    }
  }

  /** Delegations or revocations changed: re-judge the log and tell whoever listens. */
  async membershipChanged(): Promise<void> {
    await this.#o.authority.retryPendingRevocations();
    await this.#o.log.revalidate();
    this.#o.authorityChanged();
    this.#o.emit({ type: "members" });
    this.#o.emit({ type: "tasks", tasks: [...this.#o.log.reducer.tasks.keys()] });
  }

  /**
   * What a change to a bucket document added: its signatures are checked
   * from now (off this thread where the verifier has lanes), while earlier
   * changes are still being taken in; the operations join the log in turn.
   */
  bucketChange(doc: BucketDoc, patches: Patch[]): void {
    const entries: [string, unknown][] = [];
    for (const p of patches) {
      if (p.action === "put" && p.path.length === 2 && p.path[0] === "ops") {
        const cid = p.path[1] as string;
        entries.push([cid, doc.ops[cid]]);
      }
    }
    const list = this.#bytesOf(entries);
    const checked = this.#o.log.checkSignatures(list);
    this.enqueue(() => this.#ingestAll(list, checked));
  }

  /** Verify and apply task operations (by CID when read from a document); refused ones are counted. */
  ops(entries: Iterable<[string | undefined, unknown]>): Promise<void> {
    return this.#ingestAll(this.#bytesOf(entries));
  }

  /** The entries not in the log yet; those that are not bytes are refused. */
  #bytesOf(entries: Iterable<[string | undefined, unknown]>): [string | undefined, Uint8Array][] {
    const { log } = this.#o;
    const list: [string | undefined, Uint8Array][] = [];
    for (const [cid, bytes] of entries) {
      if (cid !== undefined && log.has(cid)) continue;
      if (bytes instanceof Uint8Array) list.push([cid, bytes]);
      else this.#refuse("operation " + cid, new UcanError("MalformedToken", "not bytes"));
    }
    return list;
  }

  async #ingestAll(
    list: [string | undefined, Uint8Array][],
    checked?: Promise<(Invocation | undefined)[]>,
  ): Promise<void> {
    const joined: { op: LogOp; family: string; object: string }[] = [];
    for (const r of await this.#o.log.ingestAll(list, checked)) {
      if (r.op && r.family !== undefined && r.object !== undefined) {
        joined.push({ op: r.op, family: r.family, object: r.object });
      }
    }
    this.#joined(joined);
  }

  /** Operations that waited for a parent or for their time have joined the log. */
  late(entries: LogEntry[]): void {
    this.#joined(entries.map(({ op, family, object }) => ({ op, family: family.name, object })));
  }

  /** Operations joined the log: see their time, witness what needs it, and announce what changed, once per channel. */
  #joined(entries: { op: LogOp; family: string; object: string }[]): void {
    const { log, hlc, self } = this.#o;
    const touched = new Map<string, Set<string>>();
    for (const { op, family, object } of entries) {
      hlc.observe(op.args.at);
      const channel = channelOf(family, op);
      const objects = touched.get(channel) ?? new Set<string>();
      touched.set(channel, objects.add(object));
      if (op.author !== self && log.needsWitness(op.cid)) this.witnessSoon(witnessKey(channel, object));
    }
    for (const [channel, objects] of touched) {
      const list = [...objects];
      this.#o.emit(
        channel === TASK_FAMILY
          ? { type: "tasks", tasks: list }
          : channel === AGENTS
          ? { type: "agents", agents: list }
          : { type: "objects", family: channel, objects: list },
      );
    }
  }

  /**
   * Another author's claim, or work under authority that will end, arrived:
   * record that this node has seen it (one witness operation names every
   * head, so a burst costs one). That is what lets every node tell a claim
   * the mesh saw first from one back-dated later, and an offline signer's
   * work from a thief's. Only nodes that may claim write witnesses.
   */
  witnessSoon(task?: string): void {
    if (this.#witnessTimer !== undefined) return;
    const { authority, self, now } = this.#o;
    if (authority.chainsFor(self, Commands.taskWitness, seconds(now())).length === 0) return;
    this.#witnessTimer = setTimeout(() => {
      this.#witnessTimer = undefined;
      this.#o.witness(task).catch(() => this.#o.diagnostics.count("witness.failed"));
    }, WITNESS_DELAY_MS);
  }

  #refuse(what: string, e: unknown): void {
    this.#o.diagnostics.refuse({
      kind: "op",
      what,
      code: e instanceof WeftError ? e.code : "op/invalid",
      reason: (e as Error).message,
      space: this.#o.space,
    });
  }
}

/** A change is announced as tasks, agents (pause, resume: task-family operations on an agent), or another family's. */
const AGENTS = "agents";
const channelOf = (family: string, op: LogOp) => (family === TASK_FAMILY && isAgentOp(op) ? AGENTS : family);

/** The task whose bucket a witness goes to: the witnessed task, or none for an agent or another family's object. */
const witnessKey = (channel: string, object: string) => (channel === TASK_FAMILY ? object : undefined);
