/**
 * The agents this peer runs. Each is an Ed25519 key in a 0600 file
 * (`keys/agent-<name>.json`, never replicated: no document, log or error
 * holds it) and a record of what it was given (`agents/<name>.json`: its
 * DID, space, labels, runner kinds, budget and the CIDs of its
 * delegations). Its delegations are in the space, so every node checks its
 * operations; the record is this peer's own bookkeeping, so that `weft
 * agent pause|revoke` can name an agent rather than a DID.
 *
 * On this peer, each agent has one kill switch per space (AgentKillSwitch):
 * every model call it makes here (`spending`) and every job it runs
 * (`signal`) stops as soon as the space shows it paused or revoked.
 */
import { mkdir, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { WeftError } from "#protocol";
import type { Signer } from "#protocol/identity";
import type { Space } from "#protocol/space";
import type { Budget } from "#protocol/ucan";
import { AGENT_NAME, AgentKillSwitch, AgentSpending } from "#protocol/agents";
import type { SeedKeystore } from "../keystore/file-keystore.ts";
import { type Approval, type ApprovalWait, type PlanRequest, requestApproval } from "./request-approval.ts";
import { writeFileAtomic } from "../storage/atomic-file.ts";

/** What this peer remembers of an agent it runs. */
export interface AgentRecord {
  name: string;
  did: string;
  space: string;
  labels: string[];
  runners: string[];
  budget: Budget;
  /** Unix seconds, or null for none. */
  expires: number | null;
  /** The CIDs of the delegations that make it, one per command. */
  delegations: { command: string; cid: string }[];
  /** Who asked for it (the API caller's DID). */
  by: string;
  createdAt: number;
  /** Its loop starts with the daemon and picks tasks by itself (`weft agent add --run`). */
  run?: boolean;
}

/** The name of an agent's key in the peer's keystore. */
export const agentKeyName = (name: string) => `agent-${name}`;

const MAX_RECORD_BYTES = 64 * 1024;

export class PeerAgents {
  readonly #dir: string;
  readonly #keystore: SeedKeystore;
  readonly #kills = new Map<string, AgentKillSwitch>();

  constructor(options: { home: string; keystore: SeedKeystore }) {
    this.#dir = join(options.home, "agents");
    this.#keystore = options.keystore;
  }

  #path(name: string): string {
    if (!AGENT_NAME.test(name)) {
      throw new WeftError("InvalidInput", "input/invalid", `${JSON.stringify(name)} is not an agent's name`);
    }
    return join(this.#dir, `${name}.json`);
  }

  /** Make the agent's key (refused if one by that name exists); its DID. */
  async createKey(name: string): Promise<string> {
    if (await this.get(name)) {
      throw new WeftError("AgentExists", "agent/exists", `this peer already runs an agent ${name}`);
    }
    return (await this.#keystore.create(agentKeyName(name))).did;
  }

  /** Remember an agent once its delegations are in the space (durable before the caller hears of it). */
  async save(record: AgentRecord): Promise<void> {
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(this.#path(record.name), JSON.stringify(record, null, 2) + "\n");
  }

  async get(name: string): Promise<AgentRecord | undefined> {
    let text: string;
    try {
      text = await readFile(this.#path(name), "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw e;
    }
    if (text.length > MAX_RECORD_BYTES) throw this.#corrupt(name, "too large");
    try {
      const r = JSON.parse(text) as AgentRecord;
      if (r.name !== name || typeof r.did !== "string" || typeof r.space !== "string") throw new Error("fields");
      return r;
    } catch {
      throw this.#corrupt(name, "not a valid record");
    }
  }

  /** An agent this peer runs, or agent/unknown saying what to do. */
  async require(name: string): Promise<AgentRecord> {
    const r = await this.get(name);
    if (!r) {
      throw new WeftError("AgentUnknown", "agent/unknown", `this peer runs no agent ${name}: see weft agent list`);
    }
    return r;
  }

  /** Every agent this peer runs (in `space`, if named). */
  async list(space?: string): Promise<AgentRecord[]> {
    let names: string[];
    try {
      names = (await readdir(this.#dir)).filter((f) => f.endsWith(".json")).map((f) => f.slice(0, -5));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw e;
    }
    const records = await Promise.all(names.filter((n) => AGENT_NAME.test(n)).map((n) => this.get(n)));
    return records.filter((r): r is AgentRecord => r !== undefined && (space === undefined || r.space === space))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  async signer(name: string): Promise<Signer> {
    const s = await this.#keystore.load(agentKeyName(name));
    if (!s) {
      throw new WeftError(
        "AgentUnknown",
        "agent/unknown",
        `the key of agent ${name} is missing from this peer's keys/`,
      );
    }
    return s;
  }

  /** The agent's kill switch in `space` on this peer (one per agent and space). */
  kill(space: Space, did: string): AgentKillSwitch {
    const key = `${space.id} ${did}`;
    let k = this.#kills.get(key);
    if (!k) this.#kills.set(key, k = new AgentKillSwitch(space, did));
    return k;
  }

  /**
   * The budget hook for the agent's model calls on `task`: what the LLM
   * router is given. `approveSpend` names the approval a reservation past
   * the space's spending gate needs (the loop asks a person for it).
   */
  async spending(
    space: Space,
    name: string,
    task: string,
    approveSpend?: (to: number) => Promise<string | undefined>,
  ): Promise<AgentSpending> {
    const record = await this.require(name);
    return new AgentSpending({
      space,
      signer: await this.signer(name),
      task,
      kill: this.kill(space, record.did),
      ...(approveSpend ? { approveSpend } : {}),
    });
  }

  /**
   * Ask a person to approve the agent's plan (request-approval.ts), signed
   * with its key here; waiting ends if the agent is paused or revoked, or
   * `wait.signal` fires.
   */
  async requestApproval(space: Space, name: string, request: PlanRequest, wait: ApprovalWait = {}): Promise<Approval> {
    const record = await this.require(name);
    const kill = this.kill(space, record.did).signal;
    const signal = wait.signal ? AbortSignal.any([kill, wait.signal]) : kill;
    return await requestApproval(space, await this.signer(name), request, { ...wait, signal });
  }

  /** Stop watching spaces for pauses. */
  close(): void {
    for (const k of this.#kills.values()) k.close();
    this.#kills.clear();
  }

  #corrupt(name: string, why: string): WeftError {
    return new WeftError(
      "AgentRecord",
      "storage/io",
      `the record of agent ${name} (${join(this.#dir, name + ".json")}) is ${why}; restore it from backup`,
    );
  }
}
