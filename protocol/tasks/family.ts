/**
 * Families of operations in a space's one operation log (Radicle's
 * collaborative objects, in Weft's terms): tasks, repositories, patches, …
 * Each family owns a set of commands, parses their `args` at the boundary,
 * names the object each operation acts on, and reduces its own operations
 * to its own state. The log (log.ts) is shared: every operation of every
 * family sits in the same causal graph and passes the same checks —
 * signature, shape, subject, parents, time gate, authority at its own time,
 * causal revocation — before its family's reducer sees it, and all are
 * applied in one (HLC, CID) order, so a family may read another's state as
 * it stood at that point (`ReduceContext.reducer`): that is how a patch
 * merge moves a repository's ref.
 *
 * A family's reducer must be deterministic (its state depends only on the
 * operations applied, in order), must refuse an operation that does not
 * fit with a reason and change nothing, and must fork cheaply: the log
 * rewinds to a checkpoint when an operation arrives out of order.
 */
import { compareHlc, type Hlc } from "./hlc.ts";
import type { Validator } from "../ucan/validator.ts";
import type { KeyedBudget } from "../ucan/budget.ts";
import type { ErrorCode } from "../error-codes.ts";

/** What the log needs of any operation: its identity, author, kind, and place in time. */
export interface LogOp {
  /** The operation's kind within its family ("create", "push", …). */
  readonly kind: string;
  /** CID (string) of the invocation: the operation's identity. */
  readonly cid: string;
  /** The author (the invocation's issuer). */
  readonly author: string;
  readonly args: {
    /** Its hybrid-logical time. */
    readonly at: Hlc;
    /** The heads of the space's operation graph its author had seen. */
    readonly after?: readonly string[];
  };
}

export type Outcome =
  | { applied: true }
  | {
    applied: false;
    reason: string;
    /** The typed code the refusal carries (default task/conflict): approval/required, … */
    code?: ErrorCode;
    /** Operations to set aside and reduce again without. */
    supersede?: string[];
    /** The verdict rests on witnesses: a later witness may change it. */
    contested?: boolean;
  };

/** What a reducer may ask of the causal graph. */
export interface Causality {
  /** Is operation `a` in the causal past of `b`? */
  precedes(a: string, b: string): boolean;
  /** When (ms) an author not in `exclude` first built on `cid`; Infinity if none has. */
  witnessTime(cid: string, exclude: readonly string[]): number;
}

/**
 * What a reducer is given with each operation: the graph, the other
 * families' state at that point, and the budgets the operation's
 * delegation chain sets.
 */
export interface ReduceContext extends Causality {
  /** Family `name`'s reducer as of this point in the reduction (undefined if the log has no such family). */
  reducer(name: string): FamilyReducer | undefined;
  /**
   * The budgets (ucan/budget.ts) set by the delegations in the chain that
   * authorized `op`, each under its delegation's key: what a reservation
   * draws on (tasks/spend.ts).
   */
  budgetsOf(op: LogOp): readonly KeyedBudget[];
  /**
   * Does `op` act under an agent's authority: does its delegation chain run
   * through a delegation made for an agent (its signed `meta.kind`)? What
   * the approval gates hold back (approvals/gate.ts).
   */
  isAgent(op: LogOp): boolean;
  /**
   * Whom `op` counts for: its author, or — when the delegation to its author
   * is one its issuer made to be acted for (a person pairing a bridge) — that
   * issuer, as derived from the verified chain (ucan/principal.ts). Reviews
   * and answers are counted, and self-approval refused, by this principal.
   */
  principalOf(op: LogOp): string;
}

/** What a family's `admit` may use: the space's validator (its root and delegations). */
export interface AdmitContext {
  validator: Validator;
}

/** A family's state, built by applying its valid operations in (HLC, CID) order. */
export interface FamilyReducer<Op extends LogOp = LogOp> {
  /** Apply one operation; refused ones change nothing. */
  apply(op: Op, context: ReduceContext): Outcome;
  /** An independent snapshot (copy-on-write is fine): the log keeps one as a checkpoint to rewind to. */
  fork(): FamilyReducer<Op>;
}

export interface OpFamily<Op extends LogOp = LogOp> {
  /** A short name, unique in the log: "task", "repo", "patch". */
  readonly name: string;
  /** Does this family own `command`? */
  owns(command: string): boolean;
  /** Check an invocation's args (throws InvalidInput) and make the operation. */
  parse(command: string, args: unknown, cid: string, author: string): Op;
  /** The object the operation acts on, unique within the family (a task id, a repository name). */
  object(op: Op): string;
  /**
   * Checks of what the operation carries that need async work (signatures
   * inside it: a merge's run manifests), run once when it enters the log,
   * after its own signature and authority. Throw to refuse it; resolve with
   * the operation and what it proved. The verdict must rest on the
   * operation's bytes alone, so every node reaches the same.
   */
  admit?(op: Op, context: AdmitContext): Promise<Op>;
  /** Does this operation need another member to build on it soon (a lease claim)? Default: no. */
  needsWitness?(op: Op): boolean;
  /** A fresh, empty state. */
  reducer(): FamilyReducer<Op>;
}

/** (HLC, CID) order: a causal order, since an operation's time exceeds its parents'. */
export function compareOps(
  a: { args: { at: readonly [number, number] }; cid: string },
  b: { args: { at: readonly [number, number] }; cid: string },
): number {
  return compareHlc(a.args.at, b.args.at) || (a.cid < b.cid ? -1 : a.cid > b.cid ? 1 : 0);
}
