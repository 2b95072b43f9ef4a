/**
 * Policy evaluation against an invocation's `args`.
 *
 * Statements are three-valued: true, false, or "unresolved" when a
 * selector cannot be resolved. Unresolved passes through `not` unchanged
 * (so `not` never turns a missing value into permission: fail closed), and
 * a policy holds only if every statement is true. Comparisons of
 * mismatched types are false, never an exception.
 */
import { compareNumbers, deepEqual, type Ipld, isList, isMap, isNumber } from "./ipld.ts";
import { matchGlob } from "./glob.ts";
import type { Policy, Statement } from "./policy.ts";
import { resolve } from "./selector.ts";

type Truth = true | false | "unresolved";

function and(results: Iterable<Truth>): Truth {
  let unresolved = false;
  for (const r of results) {
    if (r === false) return false;
    if (r === "unresolved") unresolved = true;
  }
  return unresolved ? "unresolved" : true;
}

function or(results: Iterable<Truth>, empty: Truth): Truth {
  let any = false;
  let unresolved = false;
  for (const r of results) {
    any = true;
    if (r === true) return true;
    if (r === "unresolved") unresolved = true;
  }
  if (!any) return empty;
  return unresolved ? "unresolved" : false;
}

function* map<T>(items: Iterable<T>, f: (t: T) => Truth): Iterable<Truth> {
  for (const t of items) yield f(t);
}

export function evaluate(statement: Statement, args: Ipld): Truth {
  switch (statement.op) {
    case "not": {
      const r = evaluate(statement.statement, args);
      return r === "unresolved" ? r : !r;
    }
    case "and":
      return and(map(statement.statements, (s) => evaluate(s, args)));
    case "or":
      // The spec makes an empty `or` vacuously true, like an empty `and`.
      return or(map(statement.statements, (s) => evaluate(s, args)), true);
    default:
      break;
  }
  const resolved = resolve(statement.selector, args);
  if (!resolved.ok) return "unresolved";
  const value = resolved.value;
  switch (statement.op) {
    case "==":
      return deepEqual(value, statement.value);
    case "!=":
      return !deepEqual(value, statement.value);
    case "<":
    case "<=":
    case ">":
    case ">=": {
      if (!isNumber(value)) return false;
      if (typeof value === "number" && !Number.isFinite(value)) return false;
      const c = compareNumbers(value, statement.value);
      return statement.op === "<" ? c < 0 : statement.op === "<=" ? c <= 0 : statement.op === ">" ? c > 0 : c >= 0;
    }
    case "like":
      return typeof value === "string" && matchGlob(statement.glob, value);
    case "all":
    case "any": {
      const items = isList(value) ? value : isMap(value) ? Object.values(value) : undefined;
      if (items === undefined) return false;
      const inner = map(items, (item) => evaluate(statement.statement, item));
      return statement.op === "all" ? and(inner) : or(inner, false);
    }
  }
}

/** Whether `args` satisfy every statement of `policy`; the first failing statement otherwise. */
export function matchPolicy(policy: Policy, args: Ipld): { ok: true } | { ok: false; failed: number } {
  for (let i = 0; i < policy.statements.length; i++) {
    if (evaluate(policy.statements[i], args) !== true) return { ok: false, failed: i };
  }
  return { ok: true };
}
