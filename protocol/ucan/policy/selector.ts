/**
 * Policy selectors: the jq-like subset UCAN 1.0 allows.
 *
 *   .            identity
 *   .foo         field (dotted form: a letter or _ first, then letters,
 *                digits, _, $ or -)
 *   ["k"] .["k"] field by any key (a JSON string literal)
 *   [2] [-1]     list index (negative counts from the end), or a byte
 *   [1:3] [:-1]  slice of a list, bytes or string (clamped)
 *   []           all values of a list or map, as a list
 *   …?           optional: what would fail to resolve yields null
 *
 * Resolution (spec): a missing map key yields null; any other step that
 * cannot be taken (index out of range, field of a non-map, …) fails the
 * whole selector unless that step is optional, in which case it yields
 * null. Steps after a failure are not taken.
 */
import { type Ipld, isList, isMap } from "./ipld.ts";

export type Segment =
  | { kind: "field"; name: string; optional: boolean }
  | { kind: "index"; index: number; optional: boolean }
  | { kind: "slice"; start?: number; end?: number; optional: boolean }
  | { kind: "values"; optional: boolean };

export interface Selector {
  readonly source: string;
  readonly segments: readonly Segment[];
}

/** Thrown by parseSelector; the policy parser turns it into InvalidPolicy. */
export class SelectorSyntaxError extends Error {}

const DOTTED = /^[A-Za-z_\p{L}][A-Za-z0-9_$\-\p{L}\p{Mn}\p{Mc}\p{Nd}\p{Pc}]*/u;
const INDEX = /^-?\d+$/;
const SLICE = /^(-?\d*):(-?\d*)$/;
const MAX_SELECTOR_LENGTH = 1024;

function syntax(source: string, at: number, what: string): never {
  throw new SelectorSyntaxError(`selector ${JSON.stringify(source)} at ${at}: ${what}`);
}

function toIndex(source: string, at: number, s: string): number {
  const n = Number(s);
  if (!Number.isSafeInteger(n)) syntax(source, at, `index ${s} is out of range`);
  return n;
}

export function parseSelector(source: unknown): Selector {
  if (typeof source !== "string") throw new SelectorSyntaxError("a selector is a string");
  if (source.length > MAX_SELECTOR_LENGTH) throw new SelectorSyntaxError("selector too long");
  if (!source.startsWith(".")) syntax(source, 0, 'a selector starts with "."');
  const segments: Segment[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i];
    let seg: Segment;
    if (c === ".") {
      const next = source[i + 1];
      if (next === ".") syntax(source, i, '".." is not allowed');
      if (next === undefined || next === "[") {
        // A lone dot: identity, or the optional dot before a bracket.
        i++;
        continue;
      }
      const m = DOTTED.exec(source.slice(i + 1));
      if (!m) syntax(source, i + 1, "expected a field name");
      seg = { kind: "field", name: m[0], optional: false };
      i += 1 + m[0].length;
    } else if (c === "[") {
      if (source[i + 1] === '"') {
        // A JSON string literal up to the closing quote, then "]".
        let j = i + 2;
        while (j < source.length && source[j] !== '"') j += source[j] === "\\" ? 2 : 1;
        if (j >= source.length || source[j + 1] !== "]") syntax(source, i, 'unterminated ["…"] field');
        let name: string;
        try {
          name = JSON.parse(source.slice(i + 1, j + 1));
        } catch {
          syntax(source, i, "invalid string literal");
        }
        seg = { kind: "field", name, optional: false };
        i = j + 2;
      } else {
        const close = source.indexOf("]", i);
        if (close < 0) syntax(source, i, 'missing "]"');
        const inner = source.slice(i + 1, close);
        if (inner === "") seg = { kind: "values", optional: false };
        else if (INDEX.test(inner)) seg = { kind: "index", index: toIndex(source, i, inner), optional: false };
        else {
          const m = SLICE.exec(inner);
          if (!m || (m[1] === "" && m[2] === "")) syntax(source, i, `invalid bracket [${inner}]`);
          seg = {
            kind: "slice",
            start: m[1] === "" ? undefined : toIndex(source, i, m[1]),
            end: m[2] === "" ? undefined : toIndex(source, i, m[2]),
            optional: false,
          };
        }
        i = close + 1;
      }
    } else {
      syntax(source, i, `unexpected ${JSON.stringify(c)}`);
    }
    while (source[i] === "?") {
      seg.optional = true;
      i++;
    }
    segments.push(seg);
  }
  return { source, segments };
}

/** What resolving a selector gives: a value, or nothing (fails the statement). */
export type Resolved = { ok: true; value: Ipld } | { ok: false };

const NOTHING: Resolved = { ok: false };

function clampSlice(len: number, start?: number, end?: number): [number, number] {
  const norm = (n: number | undefined, dflt: number) =>
    n === undefined ? dflt : n < 0 ? Math.max(0, len + n) : Math.min(n, len);
  const s = norm(start, 0);
  const e = norm(end, len);
  return [s, Math.max(s, e)];
}

function step(value: Ipld, seg: Segment): Ipld | undefined {
  switch (seg.kind) {
    case "field":
      if (!isMap(value)) return undefined;
      return Object.hasOwn(value, seg.name) ? value[seg.name] : null;
    case "index": {
      if (!isList(value) && !(value instanceof Uint8Array)) return undefined;
      const i = seg.index < 0 ? value.length + seg.index : seg.index;
      return i >= 0 && i < value.length ? value[i] : undefined;
    }
    case "slice": {
      if (isList(value) || value instanceof Uint8Array) {
        const [s, e] = clampSlice(value.length, seg.start, seg.end);
        return value.slice(s, e);
      }
      if (typeof value === "string") {
        const chars = Array.from(value);
        const [s, e] = clampSlice(chars.length, seg.start, seg.end);
        return chars.slice(s, e).join("");
      }
      return undefined;
    }
    case "values":
      if (isList(value)) return value;
      if (isMap(value)) return Object.values(value);
      return undefined;
  }
}

export function resolve(selector: Selector, args: Ipld): Resolved {
  let value: Ipld = args;
  for (const seg of selector.segments) {
    const next = step(value, seg);
    if (next === undefined) {
      if (!seg.optional) return NOTHING;
      value = null;
    } else {
      value = next;
    }
  }
  return { ok: true, value };
}
