/**
 * The bridge plug-in contract. A bridge connects a space to an outside
 * system (Radicle, Kubernetes, Nostr, …) as a principal of its own: it has
 * its own DID, holds only what members delegated to that DID, and every
 * operation it makes is signed as that DID and checked by every node like a
 * member's. It never sees the node's key: what it may use comes through its
 * BridgeContext. A bridge kind declares its name, the commands it needs
 * granted, how its `[bridges.<name>]` table is read, and makes the bridge.
 */
import type { OpArgs, OpKind } from "../tasks/ops.ts";
import type { TaskFilter, TaskView } from "../tasks/query.ts";
import type { SpaceEvent } from "../space/ingest.ts";
import type { Member } from "../space/authority.ts";
import type { Ipld } from "../ucan/policy/ipld.ts";
import type { Patch } from "../patch/state.ts";
import type { Repository } from "../repo/state.ts";
import type { ApprovalRequest } from "../approvals/reducer.ts";
import type { BudgetHook } from "../llm/budget.ts";
import type { CallOptions, CallResult } from "../llm/router.ts";
import type { ChatRequest } from "../llm/types.ts";
import type { ManagedRunner } from "../runner/plugin.ts";
import type { MachineOffer } from "../scheduler/compute.ts";
import type { LogLine } from "../runner/runner.ts";
import type { Manifest } from "../artifacts/manifest.ts";

/** A live delegation to the bridge: who made it, for what, and its meta (a pairing proof, a name). */
export interface BridgeGrant {
  cid: string;
  iss: string;
  cmd: string;
  meta: Record<string, Ipld>;
}

/**
 * Acting for one person: only under a chain whose last delegation that
 * person made to the bridge, so what they did not delegate is refused even
 * when someone else delegated it.
 */
export interface OnBehalf {
  via?: string;
}

/** One space as a bridge sees it: the tasks, and writes signed as the bridge. */
export interface BridgeSpace {
  readonly id: string;
  readonly name: string;
  tasks(filter?: TaskFilter): TaskView[];
  task(id: string): TaskView | undefined;
  /** Does the bridge hold `command` here now (a live, unrevoked chain from the space root; `via` one person's)? */
  holds(command: string, onBehalf?: OnBehalf): boolean;
  /** Sign as the bridge, check, write and flush one task operation; Forbidden if its chain does not cover it. */
  act<K extends OpKind>(kind: K, args: Omit<OpArgs<K>, "at">, onBehalf?: OnBehalf): Promise<TaskView>;
  /** Pause or resume an agent (by DID), signed as the bridge; Forbidden if its chain does not cover it. */
  agentOp(kind: "pause" | "resume", args: { agent: string; reason?: string }, onBehalf?: OnBehalf): Promise<void>;
  /** The space's patches, as every node reduces them. */
  patches(): Patch[];
  /** One of the space's repositories (its refs, default branch, maintainers), as every node reduces it. */
  repo(name: string): Repository | undefined;
  /** Agents' approval requests, each with its plan and answer. */
  approvals(): ApprovalRequest[];
  /**
   * Sign as the bridge, check, write and flush one operation of another
   * family of the log (a patch review, an approval's answer); refused with
   * the reason (Forbidden, InvalidInput, or the family's refusal) otherwise.
   * Resolves with the operation's CID (what names a patch revision or review).
   */
  perform(command: string, args: Record<string, unknown>, onBehalf?: OnBehalf): Promise<string>;
  /** Who is in the space now (names and kinds from their delegations). */
  members(): Member[];
  /** The labels of the tasks agent `did` may claim, from the live delegations made to it (agents/holdings.ts). */
  agentLabels(did: string): string[];
  /** The live delegations made to the bridge here. */
  grants(): BridgeGrant[];
}

/**
 * What happens in the bridge's spaces: a space event, or `access` when the
 * bridge gained its first delegation in a space (`holds: true`) or lost its
 * last one (revoked or lapsed: `holds: false`).
 */
export type BridgeEvent =
  | (SpaceEvent & { space: string })
  | { type: "access"; space: string; holds: boolean };

export interface BridgeLog {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** The host's LLM router, for a bridge whose people talk to a model (the Nostr bridge's free text). */
export interface BridgeLlm {
  /** One call through the router, charging `budget` like any model call (reserve, then settle). */
  call(request: ChatRequest, budget: BudgetHook, options?: CallOptions): Promise<CallResult>;
}

/** What a bridge that brings compute offers the mesh (a cluster's spare capacity, as a node's). */
export interface BridgeJobsOptions {
  /** Jobs it runs at once. */
  slots: number;
  /** What it offers now (CPU, memory, GPUs, tags), given how many of its jobs run. */
  offer(running: number): Omit<MachineOffer, "version">;
}

/** A bridge's jobs being run: stop() stops them (leases released) and withdraws its adverts. */
export interface BridgeJobs {
  stop(): Promise<void>;
}

/**
 * The mesh's runs as a bridge that places jobs (a cluster's pods as the
 * mesh's container jobs) follows them: wherever in the mesh they run.
 */
export interface BridgeRuns {
  /** A run's log, from the node running or having run it; NotFound while no reachable node has it. */
  log(space: string, task: string, follow: boolean, signal?: AbortSignal): AsyncIterable<LogLine>;
  /** A finished run's manifest by CID, fetched from this host or the mesh and verified (signature, chain, spec). */
  manifest(space: string, cid: string, signal?: AbortSignal): Promise<Manifest>;
}

/** Everything a running bridge may use. */
export interface BridgeContext {
  /** The name it is configured under (`[bridges.<name>]`). */
  readonly name: string;
  /** Its own DID: what members delegate to. */
  readonly did: string;
  /** The spaces where it holds a delegation now. */
  spaces(): BridgeSpace[];
  space(id: string): BridgeSpace | undefined;
  /** Listen to events of the spaces it is in (and access gained or lost); returns the unsubscribe. */
  subscribe(listener: (e: BridgeEvent) => void): () => void;
  /**
   * Sign bytes with the bridge's own Ed25519 key (its DID's), for an outside
   * system that knows the bridge by that key (a Radicle node id, a Nostr
   * key). The key stays with the host.
   */
  sign(message: Uint8Array): Promise<Uint8Array>;
  /** A private directory (0700) for the bridge's own state and keys, on hosts with a disk. */
  readonly dir?: string;
  /** The host's LLM router, when it has one (`[llm]`). */
  readonly llm?: BridgeLlm;
  /**
   * The local path of the bare git copy this host keeps of a space's
   * repository (undefined until it has one), on hosts that keep them. A
   * bridge may add objects to it; its refs follow the space's state, so a
   * ref moves only through a `/weft/repo/push` the bridge performs.
   */
  repository?(space: string, name: string): Promise<string | undefined>;
  /**
   * Join the mesh as a node of its own, on hosts that run jobs: advertise
   * what `runners` offer, and claim, run and record (provenance included)
   * the jobs the mesh places on it, every operation signed as the bridge
   * under what members delegated to it — /weft/capacity/advertise,
   * /weft/task/claim and /weft/run/<kind> — so what it was not granted it
   * cannot do. Programs, inputs and outputs go through the host's store.
   */
  runJobs?(runners: ManagedRunner[], options: BridgeJobsOptions): BridgeJobs;
  /** Following the mesh's runs (their logs and manifests), on hosts that keep artifacts. */
  readonly runs?: BridgeRuns;
  readonly log: BridgeLog;
}

/** A running bridge: started once with its context, closed once when the daemon stops. */
export interface Bridge {
  start(context: BridgeContext): Promise<void>;
  /** Stop acting and release what it holds; it is not started again. */
  close(): Promise<void>;
}

/** One kind of bridge, as the registry lists it. */
export interface BridgeKind<C = unknown> {
  /** Its name in `weft.toml` (`[bridges.<name>]`) and in its key file. */
  readonly name: string;
  /** One line: what it maps. */
  readonly summary: string;
  /** The commands a member grants it for it to do its work. */
  readonly commands: readonly string[];
  /** Read its `[bridges.<name>]` table; throws InvalidInput naming the key when a value is wrong. */
  configure(table: Record<string, unknown>): C;
  create(config: C): Bridge;
}

export const BRIDGE_NAME = /^[a-z][a-z0-9-]{0,31}$/;
