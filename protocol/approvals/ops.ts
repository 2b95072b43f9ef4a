/**
 * Approval operations: the space's approval gates (which steps of an agent
 * need a person's signed approval), an agent's request (the plan it will
 * carry out, in full, and the plan's sha-256), and a person's answer
 * (approve or deny), bound to that hash. Like every operation, each names
 * its hybrid-logical time `at` and the heads it was made on (`after`); the
 * shapes are checked at the boundary before anything reads them.
 *
 * Gated steps: a job with network (`network`), a push to refs matching a
 * gate's globs (`push`), and a reservation that takes the agent's spending
 * in the space past a threshold (`spend`).
 */
import { Commands } from "../ucan/commands.ts";
import { MAX_AMOUNT } from "../ucan/budget.ts";
import { isHlcCheck } from "../tasks/op-checks.ts";
import { MAX_PARENTS } from "../tasks/ops.ts";
import { bool, int, InvalidInput, list, object, oneOf, optional, required, str } from "../schema/input-checks.ts";
import type { LogOp } from "../tasks/family.ts";

/** The kinds of step a gate may hold back. */
export const GATED_KINDS = ["network", "push", "spend"] as const;
export type GatedKind = (typeof GATED_KINDS)[number];

/** The most characters of plan a request carries: people read it before approving. */
export const MAX_PLAN_CHARS = 64 * 1024;
/** The longest an approval may stay usable. */
export const MAX_APPROVAL_MS = 30 * 24 * 60 * 60 * 1000;

const opCid = str(1, 128, /^[a-z0-9]+$/);
/** A request's id, chosen by its author (like a task's or a patch's). */
export const REQUEST_ID = /^[a-z0-9]{8,40}$/;
const requestId = str(8, 40, REQUEST_ID);
const sha256Hex = str(64, 64, /^[0-9a-f]{64}$/);
const refGlob = str(6, 255, /^refs\/[^\s~^:?[\\]+$/);
const refName = str(6, 255, /^refs\/(?:heads|tags)\/[^\s~^:?*[\\]+$/);
const position = { at: required(isHlcCheck), after: optional(list(opCid, MAX_PARENTS)) };

export const APPROVAL_OPS = {
  /** The space's gates: a space-level setting an admin signs; the latest in log order governs. */
  gates: {
    command: Commands.approvalGates,
    args: object({
      ...position,
      /** Jobs an agent asks to run with the network need an approval. */
      network: optional(bool),
      /** Pushes by an agent to a ref matching one of these globs (`*` any run of characters) need one. */
      push: optional(list(refGlob, 32)),
      /** A reservation that takes an agent's spending (spent and reserved, micro-USD) past this needs one. */
      spendUsd: optional(int(0, MAX_AMOUNT)),
    }),
  },
  /** An agent asks for an approval: what it will do (`plan`, shown in full), its hash, and its scope. */
  request: {
    command: Commands.approvalRequest,
    args: object({
      ...position,
      request: required(requestId),
      kind: required(oneOf(...GATED_KINDS)),
      /** The plan as the agent states it (text, or JSON as text): exactly what a person approves. */
      plan: required(str(1, MAX_PLAN_CHARS)),
      /** Lowercase hex sha-256 of the plan's UTF-8 bytes; every node recomputes it. */
      hash: required(sha256Hex),
      /** For `network`: the program the job will run (a run spec's `program`); the job must match. */
      program: optional(str(1, 512)),
      /** For `push`: the refs it will push; the push may move only these. */
      refs: optional(list(refName, 32)),
      /** For `spend`: the agent's spending in the space (micro-USD) it may reach with this approval. */
      upToUsd: optional(int(0, MAX_AMOUNT)),
    }),
  },
  /** A person approves a request, naming the hash of the plan they read; usable until `expires`. */
  approve: {
    command: Commands.approvalApprove,
    args: object({
      ...position,
      request: required(requestId),
      hash: required(sha256Hex),
      /** Unix ms after which the approval no longer lets anything through. */
      expires: required(int(0, 8.64e15)),
    }),
  },
  /** A person refuses a request, saying why. */
  deny: {
    command: Commands.approvalDeny,
    args: object({
      ...position,
      request: required(requestId),
      hash: required(sha256Hex),
      reason: optional(str(0, 2000)),
    }),
  },
} as const;

export type ApprovalOpKind = keyof typeof APPROVAL_OPS;
export type ApprovalOpArgs<K extends ApprovalOpKind> = ReturnType<(typeof APPROVAL_OPS)[K]["args"]>;

/** An approval operation whose signature and authority were verified. */
export type ApprovalOp = {
  [K in ApprovalOpKind]: LogOp & { kind: K; args: ApprovalOpArgs<K> };
}[ApprovalOpKind];

const BY_COMMAND = new Map<string, ApprovalOpKind>(
  (Object.entries(APPROVAL_OPS) as [ApprovalOpKind, (typeof APPROVAL_OPS)[ApprovalOpKind]][]).map((
    [kind, spec],
  ) => [spec.command, kind]),
);

export function approvalOpKindOf(command: string): ApprovalOpKind | undefined {
  return BY_COMMAND.get(command);
}

/** Parse the args of an invocation of `command`; throws InvalidInput saying what to fix. */
export function parseApprovalOp(command: string, args: unknown, cid: string, author: string): ApprovalOp {
  const kind = approvalOpKindOf(command);
  if (kind === undefined) throw new InvalidInput("cmd", `${command} is not an approval operation`);
  const parsed = APPROVAL_OPS[kind].args(args, "args");
  if (kind === "request") {
    const a = parsed as ApprovalOpArgs<"request">;
    if (a.kind === "network" && a.program === undefined) {
      throw new InvalidInput("args.program", "is required for a network request: name the program the job runs");
    }
    if (a.kind === "push" && !a.refs?.length) {
      throw new InvalidInput("args.refs", "is required for a push request: name the refs it will push");
    }
    if (a.kind === "spend" && a.upToUsd === undefined) {
      throw new InvalidInput("args.upToUsd", "is required for a spend request: say how far it may spend");
    }
  }
  if (kind === "approve") {
    const a = parsed as ApprovalOpArgs<"approve">;
    if (a.expires <= a.at[0] || a.expires - a.at[0] > MAX_APPROVAL_MS) {
      throw new InvalidInput("args.expires", `must be after the approval and at most ${MAX_APPROVAL_MS} ms later`);
    }
  }
  return { kind, cid, author, args: parsed } as ApprovalOp;
}

/** The object an approval operation acts on: the space's gates, or one request (by its id). */
export function approvalObjectOf(op: ApprovalOp): string {
  return op.kind === "gates" ? "gates" : op.args.request;
}
