/**
 * The UCAN 1.0 policy language: parsing and validation.
 *
 * A policy is a list of statements, all of which must hold:
 *   ["==", sel, value]  ["!=", sel, value]
 *   ["<", sel, num]  ["<=", sel, num]  [">", sel, num]  [">=", sel, num]
 *   ["like", sel, glob]
 *   ["not", stmt]  ["and", [stmt…]]  ["or", [stmt…]]
 *   ["all", sel, stmt]  ["any", sel, stmt]
 * Anything else (unknown operators, wrong arity, bad selectors, non-numeric
 * inequality bounds, bad globs) is an InvalidPolicy error at decode time,
 * so a malformed delegation is refused before it can be used.
 */
import { UcanError } from "../errors.ts";
import { compileGlob, type Glob, GlobSyntaxError } from "./glob.ts";
import { type Ipld, isNumber } from "./ipld.ts";
import { parseSelector, type Selector, SelectorSyntaxError } from "./selector.ts";

export type Statement =
  | { op: "==" | "!="; selector: Selector; value: Ipld }
  | { op: "<" | "<=" | ">" | ">="; selector: Selector; value: number | bigint }
  | { op: "like"; selector: Selector; glob: Glob }
  | { op: "not"; statement: Statement }
  | { op: "and" | "or"; statements: Statement[] }
  | { op: "all" | "any"; selector: Selector; statement: Statement };

export interface Policy {
  /** The policy as it appears in the token, for re-encoding. */
  readonly source: Ipld[];
  readonly statements: readonly Statement[];
}

/** Deepest nesting of connectives and quantifiers a policy may use. */
export const MAX_POLICY_DEPTH = 16;

function invalid(message: string, cause?: unknown): UcanError {
  return new UcanError("InvalidPolicy", message, { cause });
}

function selectorOf(raw: unknown): Selector {
  try {
    return parseSelector(raw);
  } catch (e) {
    if (e instanceof SelectorSyntaxError) throw invalid(e.message, e);
    throw e;
  }
}

function parseStatement(raw: unknown, depth: number): Statement {
  if (depth > MAX_POLICY_DEPTH) throw invalid(`statements nest deeper than ${MAX_POLICY_DEPTH}`);
  if (!Array.isArray(raw) || raw.length < 2 || typeof raw[0] !== "string") {
    throw invalid(`a statement is [operator, …], got ${JSON.stringify(raw)?.slice(0, 80)}`);
  }
  const op = raw[0];
  const arity = (n: number) => {
    if (raw.length !== n) throw invalid(`"${op}" takes ${n - 1} arguments, got ${raw.length - 1}`);
  };
  switch (op) {
    case "==":
    case "!=":
      arity(3);
      return { op, selector: selectorOf(raw[1]), value: raw[2] as Ipld };
    case "<":
    case "<=":
    case ">":
    case ">=":
      arity(3);
      if (!isNumber(raw[2])) throw invalid(`"${op}" compares with a number, got ${typeof raw[2]}`);
      return { op, selector: selectorOf(raw[1]), value: raw[2] };
    case "like": {
      arity(3);
      if (typeof raw[2] !== "string") throw invalid('"like" takes a string pattern');
      try {
        return { op, selector: selectorOf(raw[1]), glob: compileGlob(raw[2]) };
      } catch (e) {
        if (e instanceof GlobSyntaxError) throw invalid(e.message, e);
        throw e;
      }
    }
    case "not":
      arity(2);
      return { op, statement: parseStatement(raw[1], depth + 1) };
    case "and":
    case "or":
      arity(2);
      if (!Array.isArray(raw[1])) throw invalid(`"${op}" takes a list of statements`);
      return { op, statements: raw[1].map((s: unknown) => parseStatement(s, depth + 1)) };
    case "all":
    case "any":
      arity(3);
      return { op, selector: selectorOf(raw[1]), statement: parseStatement(raw[2], depth + 1) };
    default:
      throw invalid(`unknown operator ${JSON.stringify(op)}`);
  }
}

/** Parse and validate a policy; throws UcanError InvalidPolicy. */
export function parsePolicy(raw: unknown): Policy {
  if (!Array.isArray(raw)) throw invalid("a policy is a list of statements");
  return { source: raw as Ipld[], statements: raw.map((s) => parseStatement(s, 1)) };
}
