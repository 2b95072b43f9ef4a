/** Field checks specific to task operations, on top of the generic ones. */
import { type Check, check, InvalidInput } from "../schema/input-checks.ts";
import { type Hlc, isHlc } from "./hlc.ts";

export * from "../schema/input-checks.ts";

export const isHlcCheck: Check<Hlc> = check((v, field) => {
  if (!isHlc(v)) throw new InvalidInput(field, "must be a hybrid clock timestamp [ms, counter]");
  return v;
}, { type: "array", items: { type: "integer", minimum: 0 }, minItems: 2, maxItems: 2 });
