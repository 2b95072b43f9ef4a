/**
 * Repository operations: what `/weft/repo/create` and `/weft/repo/push`
 * invocations say, and the exact shape of their `args`, checked before the
 * log counts them. A push is a list of ref updates {ref, old, new}; `old`
 * is what the pusher saw (a compare-and-swap), the zero id for "no such ref
 * yet", and a zero `new` deletes the ref. Who may push which ref is a UCAN
 * policy on these args (ref-policy.ts), checked with the chain like any
 * policy.
 */
import { Commands } from "../ucan/commands.ts";
import { isHlcCheck } from "../tasks/op-checks.ts";
import { InvalidInput, list, object, optional, required, str } from "../schema/input-checks.ts";
import { MAX_PARENTS } from "../tasks/ops.ts";
import { REPO_NAME } from "../sync/git-frames.ts";

export { REPO_NAME };
import type { LogOp } from "../tasks/family.ts";

/** A git object id: SHA-1 (40 hex) or SHA-256 (64 hex). */
export const OBJECT_ID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
/** Ref updates one push carries at most. */
export const MAX_REF_UPDATES = 64;
/** Maintainers a repository names at most. */
export const MAX_MAINTAINERS = 64;

const repoName = str(1, 100, REPO_NAME);
const objectId = str(40, 64, OBJECT_ID);
const refName = str(6, 255, /^refs\/(?:heads|tags)\/[^\s~^:?*[\\]+$/);
const branch = str(1, 200, /^[^\s~^:?*[\\]+$/);
const did = str(8, 256, /^did:[a-z0-9]+:[A-Za-z0-9._:%-]+$/);
const opCid = str(1, 128, /^[a-z0-9]+$/);
const common = { repo: required(repoName), at: required(isHlcCheck), after: optional(list(opCid, MAX_PARENTS)) };

export const REPO_OPS = {
  create: {
    command: Commands.repoCreate,
    args: object({
      ...common,
      defaultBranch: required(branch),
      /** Who may move the default branch (the creator when empty). */
      maintainers: optional(list(did, MAX_MAINTAINERS)),
      description: optional(str(0, 2000)),
    }),
  },
  push: {
    command: Commands.repoPush,
    args: object({
      ...common,
      updates: required(
        list(object({ ref: required(refName), old: required(objectId), new: required(objectId) }), MAX_REF_UPDATES),
      ),
      /** The approve operation that lets an agent's push to gated refs through the space's gates (approvals/). */
      approval: optional(opCid),
    }),
  },
} as const;

export type RepoOpKind = keyof typeof REPO_OPS;
export type RepoOpArgs<K extends RepoOpKind> = ReturnType<(typeof REPO_OPS)[K]["args"]>;
export type RefUpdate = RepoOpArgs<"push">["updates"][number];

/** A repository operation whose signature and authority were verified. */
export type RepoOp = {
  [K in RepoOpKind]: LogOp & { kind: K; args: RepoOpArgs<K> };
}[RepoOpKind];

const BY_COMMAND = new Map<string, RepoOpKind>(
  (Object.entries(REPO_OPS) as [RepoOpKind, (typeof REPO_OPS)[RepoOpKind]][]).map(([k, s]) => [s.command, k]),
);

export function repoOpKindOf(command: string): RepoOpKind | undefined {
  return BY_COMMAND.get(command);
}

/** The zero object id of the same length: "no such ref". */
export const zeroId = (id: string): string => "0".repeat(id.length);
export const isZeroId = (id: string): boolean => /^0+$/.test(id);

/** A ref name git itself accepts (git check-ref-format), beyond the shape above. */
export function refProblem(ref: string): string | undefined {
  if (ref.includes("..") || ref.includes("//") || ref.includes("@{")) return "has '..', '//' or '@{'";
  if (ref.endsWith("/") || ref.endsWith(".") || ref.endsWith(".lock")) return "ends with '/', '.' or '.lock'";
  if (ref.split("/").some((c) => c.startsWith("."))) return "has a component starting with '.'";
  // deno-lint-ignore no-control-regex
  if (/[\x00-\x1f\x7f]/.test(ref)) return "has control characters";
  return undefined;
}

/** Parse the args of an invocation of `command`; throws InvalidInput. */
export function parseRepoOp(command: string, args: unknown, cid: string, author: string): RepoOp {
  const kind = repoOpKindOf(command);
  if (kind === undefined) throw new InvalidInput("cmd", `${command} is not a repository operation`);
  const parsed = REPO_OPS[kind].args(args, "args");
  if (parsed.repo.includes("..") || parsed.repo.endsWith(".lock")) {
    throw new InvalidInput("args.repo", `${parsed.repo} may not contain ".." or end in ".lock"`);
  }
  if (kind === "push") {
    const { updates } = parsed as RepoOpArgs<"push">;
    if (updates.length === 0) throw new InvalidInput("args.updates", "a push updates at least one ref");
    const seen = new Set<string>();
    for (const [i, u] of updates.entries()) {
      const problem = refProblem(u.ref);
      if (problem) throw new InvalidInput(`args.updates[${i}].ref`, `${u.ref} ${problem}`);
      if (seen.has(u.ref)) throw new InvalidInput(`args.updates[${i}].ref`, `${u.ref} is updated twice`);
      seen.add(u.ref);
      if (u.old.length !== u.new.length) {
        throw new InvalidInput(
          `args.updates[${i}]`,
          "old and new are object ids of the same hash (both SHA-1 or both SHA-256)",
        );
      }
      if (u.old === u.new) throw new InvalidInput(`args.updates[${i}]`, "old and new are the same: nothing to update");
    }
  }
  return { kind, cid, author, args: parsed } as RepoOp;
}
