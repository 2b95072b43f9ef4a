/** Field checks specific to task operations, on top of the generic ones. */
import { type Check, InvalidInput } from "../schema/fields.ts";
import { type Hlc, isHlc } from "./hlc.ts";

export * from "../schema/fields.ts";

export const isHlcCheck: Check<Hlc> = (v, field) => {
  if (!isHlc(v)) throw new InvalidInput(field, "must be a hybrid clock timestamp [ms, counter]");
  return v;
};
