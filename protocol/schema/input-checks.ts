/**
 * Tiny validators for arguments that arrive from the network, a file or a
 * user. Each returns the value typed or throws a WeftError naming the
 * field and what it must be — callers refuse the input and change nothing.
 * Each also carries its JSON Schema (`check.json`), so API documentation is
 * generated from the very checks that run.
 */
import type { ErrorCode } from "../error-codes.ts";
import { WeftError } from "../errors.ts";

export class InvalidInput extends WeftError {
  readonly field: string;
  constructor(field: string, must: string, code: ErrorCode = "input/invalid") {
    super("InvalidInput", code, `${field} ${must}`);
    this.field = field;
  }
}

export type JsonSchema = Record<string, unknown>;

export type Check<T> = ((value: unknown, field: string) => T) & { json: JsonSchema };

export function check<T>(fn: (value: unknown, field: string) => T, json: JsonSchema): Check<T> {
  return Object.assign(fn, { json });
}

export const str = (min: number, max: number, pattern?: RegExp): Check<string> =>
  check((v, field) => {
    if (typeof v !== "string" || v.length < min || v.length > max) {
      throw new InvalidInput(field, `must be a string of ${min} to ${max} characters`);
    }
    if (pattern && !pattern.test(v)) throw new InvalidInput(field, `must match ${pattern}`);
    return v;
  }, { type: "string", minLength: min, maxLength: max, ...(pattern ? { pattern: pattern.source } : {}) });

export const int = (min: number, max: number): Check<number> =>
  check((v, field) => {
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min || v > max) {
      throw new InvalidInput(field, `must be an integer from ${min} to ${max}`);
    }
    return v;
  }, { type: "integer", minimum: min, maximum: max });

export const num = (min: number, max: number): Check<number> =>
  check((v, field) => {
    if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max) {
      throw new InvalidInput(field, `must be a number from ${min} to ${max}`);
    }
    return v;
  }, { type: "number", minimum: min, maximum: max });

export const bool: Check<boolean> = check((v, field) => {
  if (typeof v !== "boolean") throw new InvalidInput(field, "must be true or false");
  return v;
}, { type: "boolean" });

export const oneOf = <T extends string>(...options: T[]): Check<T> =>
  check((v, field) => {
    if (!options.includes(v as T)) throw new InvalidInput(field, `must be one of ${options.join(", ")}`);
    return v as T;
  }, { type: "string", enum: options });

export const list = <T>(item: Check<T>, max: number): Check<T[]> =>
  check((v, field) => {
    if (!Array.isArray(v) || v.length > max) throw new InvalidInput(field, `must be a list of at most ${max} items`);
    return v.map((x, i) => item(x, `${field}[${i}]`));
  }, { type: "array", items: item.json, maxItems: max });

export type Shape = Record<string, { check: Check<unknown>; optional?: boolean }>;
type Out<S extends Shape> =
  & { [K in keyof S as S[K]["optional"] extends true ? never : K]: ReturnType<S[K]["check"]> }
  & { [K in keyof S as S[K]["optional"] extends true ? K : never]?: ReturnType<S[K]["check"]> };

export const required = <T>(check: Check<T>) => ({ check });
export const optional = <T>(check: Check<T>) => ({ check, optional: true as const });

/** A map with exactly the fields of `shape` (unknown fields refused). */
export const object = <S extends Shape>(shape: S): Check<Out<S>> =>
  check((v, field) => {
    if (typeof v !== "object" || v === null || Array.isArray(v) || v instanceof Uint8Array) {
      throw new InvalidInput(field, "must be a map");
    }
    const rec = v as Record<string, unknown>;
    for (const k of Object.keys(rec)) {
      if (!Object.hasOwn(shape, k)) throw new InvalidInput(`${field}.${k}`, "is not a known field");
    }
    const out: Record<string, unknown> = {};
    for (const [k, spec] of Object.entries(shape)) {
      if (!Object.hasOwn(rec, k) || rec[k] === undefined) {
        if (!spec.optional) throw new InvalidInput(`${field}.${k}`, "is required");
        continue;
      }
      out[k] = spec.check(rec[k], `${field}.${k}`);
    }
    return out as Out<S>;
  }, {
    type: "object",
    properties: Object.fromEntries(Object.entries(shape).map(([k, spec]) => [k, spec.check.json])),
    required: Object.entries(shape).filter(([, spec]) => !spec.optional).map(([k]) => k),
    additionalProperties: false,
  });
