/**
 * Task operations: what each kind of signed task invocation means and the
 * exact shape of its `args`. Every operation names its task and carries a
 * hybrid-logical-clock timestamp `at` and the causal parents it was made on
 * (`after`); operations are applied in (at, CID) order by the reducer, which
 * is a causal order because an operation's time exceeds its parents'.
 */
import { Commands } from "../ucan/commands.ts";
import { MAX_AMOUNT } from "../ucan/budget.ts";
import { runSpecShape } from "../runner/runner.ts";
import { bool, int, InvalidInput, isHlcCheck, list, num, object, oneOf, optional, required, str } from "./op-checks.ts";

export const TASK_ID = /^[a-z0-9]{8,40}$/;
export const LABEL = /^[^\s,]{1,64}$/;
/** The longest a lease may run before it must be renewed. */
export const MAX_LEASE_MS = 60 * 60 * 1000;
/** The most causal parents an operation names (the author's frontier, newest first). */
export const MAX_PARENTS = 16;

const taskId = str(8, 40, TASK_ID);
const label = str(1, 64, LABEL);
const fence = int(1, Number.MAX_SAFE_INTEGER);
const epochMs = int(0, 8.64e15);

export const requirementsShape = object({
  runner: optional(str(1, 32, /^[a-z0-9-]+$/)),
  cpu: optional(num(0, 4096)),
  memoryMb: optional(int(0, 16 * 1024 * 1024)),
  gpu: optional(int(0, 1024)),
  /** Tag selectors: `gpu` (has the tag), `region=eu` (exact), `!ephemeral` (must not have it). */
  tags: optional(list(str(1, 128, /^!?[^\s=!]+(=[^\s]+)?$/), 32)),
  timeoutSeconds: optional(int(1, 7 * 24 * 3600)),
});

const opCid = str(1, 128, /^[a-z0-9]+$/);
const amount = int(0, MAX_AMOUNT);
const modelName = str(1, 200);
const agentDid = str(9, 256, /^did:key:z[1-9A-HJ-NP-Za-km-z]+$/);
/**
 * Every operation names its task, its hybrid-logical time, and the
 * operations it was made on (`after`: CIDs of the heads of the space's
 * operation graph its author had seen). Its time must exceed theirs.
 */
const common = { task: required(taskId), at: required(isHlcCheck), after: optional(list(opCid, MAX_PARENTS)) };
/**
 * Lease operations may name labels the task carries: a delegation can then
 * limit its holder to tasks with certain labels by a policy on `.labels`
 * (an agent's does), and the reducer refuses a label the task lacks.
 */
const leaseCommon = { ...common, labels: optional(list(label, 32)) };
/** The same for an operation on an agent (pause, resume), which names the agent instead of a task. */
const agentCommon = { agent: required(agentDid), at: required(isHlcCheck), after: optional(list(opCid, MAX_PARENTS)) };

export const OPS = {
  create: {
    command: Commands.taskCreate,
    args: object({
      ...common,
      title: required(str(1, 200)),
      body: optional(str(0, 32_000)),
      labels: optional(list(label, 32)),
      deps: optional(list(taskId, 64)),
      requirements: optional(requirementsShape),
      review: optional(bool),
      /** A task that asks for compute: the run spec the scheduler places and a runner executes. */
      run: optional(runSpecShape),
      /** Retried submissions with the same key (per creator) do not make a second task. */
      idempotencyKey: optional(str(1, 128)),
      /** The approve operation that lets an agent's job with network through the space's gates (approvals/). */
      approval: optional(opCid),
    }),
  },
  edit: {
    command: Commands.taskEdit,
    args: object({
      ...common,
      title: optional(str(1, 200)),
      body: optional(str(0, 32_000)),
      requirements: optional(requirementsShape),
      review: optional(bool),
    }),
  },
  label: {
    command: Commands.taskLabel,
    args: object({ ...common, add: optional(list(label, 32)), remove: optional(list(label, 32)) }),
  },
  dependency: {
    command: Commands.taskDependency,
    args: object({ ...common, add: optional(taskId), remove: optional(taskId) }),
  },
  comment: { command: Commands.taskComment, args: object({ ...common, body: required(str(1, 16_000)) }) },
  claim: {
    command: Commands.taskClaim,
    args: object({ ...leaseCommon, fence: required(fence), expires: required(epochMs) }),
  },
  renew: {
    command: Commands.taskRenew,
    args: object({ ...leaseCommon, fence: required(fence), expires: required(epochMs) }),
  },
  release: { command: Commands.taskRelease, args: object({ ...leaseCommon, fence: required(fence) }) },
  start: { command: Commands.taskStart, args: object({ ...leaseCommon, fence: required(fence) }) },
  result: {
    command: Commands.taskResult,
    args: object({
      ...leaseCommon,
      fence: required(fence),
      outcome: required(oneOf("success", "failure")),
      manifest: optional(str(1, 128, /^[a-z0-9]+$/)),
      summary: optional(str(0, 4000)),
      exitCode: optional(int(-(2 ** 31), 2 ** 31)),
    }),
  },
  review: {
    command: Commands.taskReview,
    args: object({ ...common, verdict: required(oneOf("approve", "reject")), body: optional(str(0, 16_000)) }),
  },
  close: {
    command: Commands.taskClose,
    args: object({ ...common, outcome: required(oneOf("done", "failed")), body: optional(str(0, 16_000)) }),
  },
  cancel: { command: Commands.taskCancel, args: object({ ...common, body: optional(str(0, 16_000)) }) },
  /**
   * A node saw what `after` names, at `at`: it changes no task, but anchors
   * other authors' operations in time (see protocol/README.md, "Time").
   */
  witness: { command: Commands.taskWitness, args: object({ ...common }) },
  /**
   * Reserve the most a model call for this task may cost, before it starts:
   * `usd` (micro-USD) and `tokens`, and `dayUsd` (the same micro-USD, charged
   * to the UTC day of `at`). The budgets in the author's chain bound the sum
   * of reservations (ucan/budget.ts, spend.ts).
   */
  reserve: {
    command: Commands.taskReserve,
    args: object({
      ...common,
      usd: required(amount),
      tokens: required(amount),
      dayUsd: required(amount),
      model: optional(modelName),
      /** The approve operation that lets a reservation past the space's spending gate through (approvals/). */
      approval: optional(opCid),
    }),
  },
  /** What a reserved call actually cost: its signed receipt, which replaces the reservation in every sum. */
  settle: {
    command: Commands.taskSettle,
    args: object({
      ...common,
      reservation: required(opCid),
      usd: required(amount),
      tokens: required(amount),
      dayUsd: required(amount),
      model: optional(modelName),
      provider: optional(str(1, 200)),
    }),
  },
  /**
   * Pause an agent: every node refuses its operations dated after this one,
   * until it is resumed. Acts on the agent, not a task: filed under its DID.
   */
  pause: { command: Commands.agentPause, args: object({ ...agentCommon, reason: optional(str(0, 2000)) }) },
  resume: { command: Commands.agentResume, args: object({ ...agentCommon }) },
} as const;

export type OpKind = keyof typeof OPS;
/** Operations on an agent rather than a task. */
export type AgentOpKind = "pause" | "resume";
export const AGENT_OP_KINDS: ReadonlySet<OpKind> = new Set<OpKind>(["pause", "resume"]);
/** Does this operation act on an agent (pause, resume) rather than a task? */
export const isAgentOp = (op: { kind: string }): boolean => (AGENT_OP_KINDS as ReadonlySet<string>).has(op.kind);
export type OpArgs<K extends OpKind> = ReturnType<(typeof OPS)[K]["args"]>;

const BY_COMMAND = new Map<string, OpKind>(
  (Object.entries(OPS) as [OpKind, (typeof OPS)[OpKind]][]).map(([kind, spec]) => [spec.command, kind]),
);

export function opKindOf(command: string): OpKind | undefined {
  return BY_COMMAND.get(command);
}

/** A task operation whose signature and authority were verified. */
export type TaskOp = {
  [K in OpKind]: {
    kind: K;
    /** CID (string) of the invocation: the operation's identity. */
    cid: string;
    /** The author (the invocation's issuer). */
    author: string;
    args: OpArgs<K>;
  };
}[OpKind];

/** What an operation acts on: its task's id, or the agent's DID for pause and resume (documents are bucketed by it). */
export function objectOf(op: { args: { task: string } | { agent: string } }): string {
  return "task" in op.args ? op.args.task : op.args.agent;
}

/** Parse the args of an invocation of `command`; throws InvalidInput. */
export function parseTaskOp(command: string, args: unknown, cid: string, author: string): TaskOp {
  const kind = opKindOf(command);
  if (kind === undefined) throw new InvalidInput("cmd", `${command} is not a task operation`);
  const parsed = OPS[kind].args(args, "args") as OpArgs<typeof kind>;
  if (kind === "dependency") {
    const a = parsed as OpArgs<"dependency">;
    if ((a.add === undefined) === (a.remove === undefined)) {
      throw new InvalidInput("args", "a dependency operation has exactly one of add or remove");
    }
  }
  if (kind === "reserve" || kind === "settle") {
    const a = parsed as OpArgs<"reserve">;
    if (a.dayUsd !== a.usd) throw new InvalidInput("args.dayUsd", "must equal usd (it is the same money, by day)");
  }
  if ((kind === "claim" || kind === "renew")) {
    const a = parsed as OpArgs<"claim">;
    if (a.expires <= a.at[0] || a.expires - a.at[0] > MAX_LEASE_MS) {
      throw new InvalidInput("args.expires", `must be after the operation and at most ${MAX_LEASE_MS} ms later`);
    }
  }
  return { kind, cid, author, args: parsed } as TaskOp;
}
