/**
 * Which refs a delegation lets its holder push, as a UCAN policy on the
 * push invocation's args (the policy language of ucan/policy, nothing
 * parallel): every update's ref must match one of the globs. Put it on a
 * `/weft/repo/push` delegation (e.g. an agent's: `refs/heads/agent/*`);
 * every node checks it with the chain, at the push's own time.
 */
import type { Ipld } from "../ucan/policy/ipld.ts";

export function refPolicy(globs: readonly string[]): Ipld[] {
  const matches = globs.map((g) => ["like", ".ref", g] as Ipld);
  return [["all", ".updates", matches.length === 1 ? matches[0] : ["or", matches]]];
}

/** A policy limiting a push delegation to one repository. */
export function repoPolicy(name: string): Ipld[] {
  return [["==", ".repo", name]];
}
