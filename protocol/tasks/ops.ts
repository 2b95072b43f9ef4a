/**
 * Task operations: what each kind of signed task invocation means and the
 * exact shape of its `args`. Every operation names its task and carries a
 * hybrid-logical-clock timestamp `at` and the causal parents it was made on
 * (`after`); operations are applied in (at, CID) order by the reducer, which
 * is a causal order because an operation's time exceeds its parents'.
 */
import { Commands } from "../ucan/commands.ts";
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
/**
 * Every operation names its task, its hybrid-logical time, and the
 * operations it was made on (`after`: CIDs of the heads of the space's
 * operation graph its author had seen). Its time must exceed theirs.
 */
const common = { task: required(taskId), at: required(isHlcCheck), after: optional(list(opCid, MAX_PARENTS)) };

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
    args: object({ ...common, fence: required(fence), expires: required(epochMs) }),
  },
  renew: {
    command: Commands.taskRenew,
    args: object({ ...common, fence: required(fence), expires: required(epochMs) }),
  },
  release: { command: Commands.taskRelease, args: object({ ...common, fence: required(fence) }) },
  start: { command: Commands.taskStart, args: object({ ...common, fence: required(fence) }) },
  result: {
    command: Commands.taskResult,
    args: object({
      ...common,
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
} as const;

export type OpKind = keyof typeof OPS;
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
  if ((kind === "claim" || kind === "renew")) {
    const a = parsed as OpArgs<"claim">;
    if (a.expires <= a.at[0] || a.expires - a.at[0] > MAX_LEASE_MS) {
      throw new InvalidInput("args.expires", `must be after the operation and at most ${MAX_LEASE_MS} ms later`);
    }
  }
  return { kind, cid, author, args: parsed } as TaskOp;
}
