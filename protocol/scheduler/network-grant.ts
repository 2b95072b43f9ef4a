/**
 * Network is a capability. A run spec asking for `network: true` is run
 * only if the task's creator held `/weft/run/<runner>` in the space when
 * they created it, through a chain whose every policy accepts the run's
 * network arguments `{ task, runner, program, network: true }` — for
 * example `[["==", ".network", true]]`, or `[["like", ".program",
 * "sha256:ab12*"]]` to allow the network to one image only. Holding
 * `/weft/task/create` is not enough. The check reads only the delegations
 * recorded in the space document, at the creation's time, so every node
 * that could run the task reaches the same verdict; the running node
 * refuses (the scheduler closes the task as failed, saying why) instead of
 * trusting that someone else checked.
 */
import { runCommand } from "../artifacts/build.ts";
import type { RunSpec } from "../runner/runner.ts";
import type { Delegation } from "../ucan/delegation.ts";
import type { Ipld } from "../ucan/policy/ipld.ts";
import { matchPolicy } from "../ucan/policy/match.ts";

/** What a space's authority answers: the root-first chains that give `did` `command` at `now` (Unix seconds). */
export interface ChainSource {
  chainsFor(did: string, command: string, now: number): Delegation[][];
}

/** The arguments a run's network grant is judged on: the policies of the creator's chain must accept them. */
export function networkArgs(task: string, spec: RunSpec): Record<string, Ipld> {
  return { task, runner: spec.runner, program: spec.program, network: true };
}

/**
 * Why the task's run may not have the network, or undefined if it may (or
 * does not ask). `createdAtMs` is the creation's hybrid-logical time.
 */
export function networkRefusal(
  authority: ChainSource,
  task: { id: string; creator: string; createdAtMs: number; run: RunSpec },
): string | undefined {
  if (task.run.network !== true) return undefined;
  const command = runCommand(task.run.runner);
  const chains = authority.chainsFor(task.creator, command, Math.floor(task.createdAtMs / 1000));
  const ask = `ask a space admin for ${command} with a policy that allows it (e.g. [["==", ".network", true]]), ` +
    "or submit it without network";
  if (chains.length === 0) {
    return `network refused: ${task.creator} did not hold ${command} in this space when it created the task; ${ask}`;
  }
  const args = networkArgs(task.id, task.run);
  if (chains.some((chain) => chain.every((d) => matchPolicy(d.pol, args).ok))) return undefined;
  return `network refused: the policies on ${task.creator}'s ${command} do not allow network for this run; ${ask}`;
}
