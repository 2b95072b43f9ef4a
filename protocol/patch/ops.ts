/**
 * Patch operations: what each kind of signed patch invocation means and the
 * exact shape of its `args`, checked at the boundary before anything reads
 * them. Like task operations, every one names its patch, its hybrid-logical
 * time `at` and the heads of the space's operation graph it was made on
 * (`after`); the patch reducer applies them in (at, CID) order.
 *
 * A patch's first revision is its `propose` operation; each `revise` adds
 * one, named by the CID of the operation that made it. Reviews and merges
 * name the revision they are about, so a comment stays anchored to the code
 * it was written on.
 */
import { Commands } from "../ucan/commands.ts";
import { isHlcCheck } from "../tasks/op-checks.ts";
import { MAX_PARENTS, TASK_ID } from "../tasks/ops.ts";
import { RUN_PATH } from "../runner/runner.ts";
import { plainName } from "../schema/names.ts";
import { bytes } from "../sync/frame-checks.ts";
import { OBJECT_ID, refProblem, REPO_NAME } from "../repo/ops.ts";
import { int, InvalidInput, list, object, oneOf, optional, required, str } from "../schema/input-checks.ts";

export const PATCH_ID = /^[a-z0-9]{8,40}$/;
/** The branch a patch lands on: `refs/heads/…`, a ref git accepts (repo/ops.ts refProblem). */
export const TARGET_REF = /^refs\/heads\/[^\s~^:?*[\\]+$/;
/** The most bytes of one run manifest a merge carries as evidence. */
export const MAX_EVIDENCE_BYTES = 256 * 1024;
/** The most runs a merge carries as evidence (one per required check is enough). */
export const MAX_EVIDENCE = 8;
/** The most anchored comments one review carries. */
export const MAX_REVIEW_COMMENTS = 64;

const patchId = str(8, 40, PATCH_ID);
const commit = str(40, 64, OBJECT_ID);
const opCid = str(1, 128, /^[a-z0-9]+$/);
const repo = str(1, 100, REPO_NAME);
const body = (max: number) => str(0, max);

const common = { patch: required(patchId), at: required(isHlcCheck), after: optional(list(opCid, MAX_PARENTS)) };

/** A comment anchored to a line of a file as it is in the revision reviewed. */
export const anchoredCommentShape = object({
  path: required(str(1, 256, RUN_PATH)),
  line: required(int(1, 10_000_000)),
  body: required(str(1, 16_000)),
});

/** A check a repository's patches need: a passing run on the head commit, optionally of one runner or program. */
export const checkRuleShape = object({
  name: required(str(1, 64, /^[A-Za-z0-9][A-Za-z0-9._-]*$/)),
  runner: optional(str(1, 32, /^[a-z0-9-]+$/)),
  program: optional(str(1, 512)),
});

/**
 * What made a patch an agent proposed, signed with the proposal by the
 * agent's key: the model and provider it used, the tokens and micro-USD it
 * spent on the task, the run that passed, and its transcript, an artifact
 * named by raw CID.
 */
export const agentProvenanceShape = object({
  model: required(str(1, 200)),
  provider: required(str(1, 64)),
  inputTokens: required(int(0, Number.MAX_SAFE_INTEGER)),
  outputTokens: required(int(0, Number.MAX_SAFE_INTEGER)),
  costMicroUsd: required(int(0, Number.MAX_SAFE_INTEGER)),
  turns: required(int(0, 10_000)),
  transcript: required(str(1, 128, /^[a-z0-9]+$/)),
  run: optional(str(8, 40, TASK_ID)),
});

export const PATCH_OPS = {
  propose: {
    command: Commands.patchPropose,
    args: object({
      ...common,
      repo: required(repo),
      /** The ref the patch asks to land on, e.g. refs/heads/main. */
      target: required(str(12, 255, TARGET_REF)),
      base: required(commit),
      head: required(commit),
      title: required(plainName(200)),
      description: optional(body(32_000)),
      /** Tasks this patch answers. */
      tasks: optional(list(str(8, 40, TASK_ID), 32)),
      /** Set by an agent: how the patch was made (agentProvenanceShape). */
      provenance: optional(agentProvenanceShape),
    }),
  },
  revise: {
    command: Commands.patchRevise,
    args: object({ ...common, base: optional(commit), head: required(commit), description: optional(body(32_000)) }),
  },
  review: {
    command: Commands.patchReview,
    args: object({
      ...common,
      /** The revision reviewed: the CID of the propose or revise operation that made it. */
      revision: required(opCid),
      verdict: required(oneOf("approve", "request-changes", "comment")),
      body: optional(body(16_000)),
      comments: optional(list(anchoredCommentShape, MAX_REVIEW_COMMENTS)),
    }),
  },
  merge: {
    command: Commands.patchMerge,
    args: object({
      ...common,
      revision: required(opCid),
      /** Where the target ref pointed when the merge was made (zero: nowhere yet); refused if it has moved since. */
      onto: required(commit),
      /** The commit the target ref now points at: the head itself (fast-forward) or a merge commit. */
      commit: required(commit),
      strategy: required(oneOf("fast-forward", "merge-commit")),
      /** The runs that pass the repository's required checks: each one's signed manifest block, verified by every node. */
      evidence: required(list(bytes(MAX_EVIDENCE_BYTES, 1), MAX_EVIDENCE)),
    }),
  },
  close: { command: Commands.patchClose, args: object({ ...common, body: optional(body(16_000)) }) },
  reopen: { command: Commands.patchReopen, args: object({ ...common }) },
  policy: {
    command: Commands.patchPolicy,
    args: object({
      at: required(isHlcCheck),
      after: optional(list(opCid, MAX_PARENTS)),
      /** The repository this policy governs; `*` for every repository without its own. */
      repo: required(str(1, 100, /^(?:\*|[A-Za-z0-9][A-Za-z0-9._-]{0,99})$/)),
      checks: required(list(checkRuleShape, 16)),
      /** Approvals the merged revision needs from reviewers other than its author. */
      approvals: optional(int(0, 16)),
    }),
  },
} as const;

export type PatchOpKind = keyof typeof PATCH_OPS;
export type PatchOpArgs<K extends PatchOpKind> = ReturnType<(typeof PATCH_OPS)[K]["args"]>;
export type CheckRule = ReturnType<typeof checkRuleShape>;
export type AgentProvenance = ReturnType<typeof agentProvenanceShape>;
export type AnchoredComment = ReturnType<typeof anchoredCommentShape>;

const BY_COMMAND = new Map<string, PatchOpKind>(
  (Object.entries(PATCH_OPS) as [PatchOpKind, (typeof PATCH_OPS)[PatchOpKind]][]).map((
    [kind, spec],
  ) => [spec.command, kind]),
);

export function patchOpKindOf(command: string): PatchOpKind | undefined {
  return BY_COMMAND.get(command);
}

/** A patch operation whose signature and authority were verified. */
export type PatchOp = {
  [K in PatchOpKind]: { kind: K; cid: string; author: string; args: PatchOpArgs<K> };
}[PatchOpKind];

/** Parse the args of an invocation of `command`; throws InvalidInput. */
export function parsePatchOp(command: string, args: unknown, cid: string, author: string): PatchOp {
  const kind = patchOpKindOf(command);
  if (kind === undefined) throw new InvalidInput("cmd", `${command} is not a patch operation`);
  const parsed = PATCH_OPS[kind].args(args, "args");
  if (kind === "review") {
    const a = parsed as PatchOpArgs<"review">;
    if (a.verdict === "comment" && !a.body && !(a.comments?.length)) {
      throw new InvalidInput("args", "a comment-only review needs a body or at least one anchored comment");
    }
  }
  if (kind === "propose") {
    const problem = refProblem((parsed as PatchOpArgs<"propose">).target);
    if (problem) throw new InvalidInput("args.target", problem);
  }
  if (kind === "merge") {
    const a = parsed as PatchOpArgs<"merge">;
    if (a.onto.length !== a.commit.length) {
      throw new InvalidInput("args.onto", "must be an id of the same kind as commit");
    }
  }
  if (kind === "policy") {
    const names = (parsed as PatchOpArgs<"policy">).checks.map((c) => c.name);
    if (new Set(names).size !== names.length) throw new InvalidInput("args.checks", "must not name a check twice");
  }
  return { kind, cid, author, args: parsed } as PatchOp;
}

/** The object a patch operation acts on: its patch, or a repository's merge policy. */
export function patchObjectOf(op: PatchOp): string {
  return op.kind === "policy" ? `policy:${op.args.repo}` : op.args.patch;
}
