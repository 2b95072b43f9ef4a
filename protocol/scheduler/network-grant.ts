/**
 * Network is a capability. Holding `/weft/run/<kind>` lets a principal have
 * jobs run (run-authority.ts); a job that asks for `network: true` also
 * needs a chain for that command whose every policy accepts the run's
 * network arguments `{ task, runner, program, network: true }` — for
 * example `[["==", ".network", true]]`, or `[["==", ".program", "sha256:…"]]`
 * to allow the network to one image only. A delegation with no policy
 * allows it, as UCAN policies go; `[["==", ".network", false]]` gives a
 * member containers without the network. The check reads only the
 * delegations recorded in the space, so every node that could run the job
 * reaches the same verdict, and the running node checks it again itself.
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

/** Why the task's run may not have the network, or undefined if it may (or does not ask for it). */
export function networkRefusal(
  authority: ChainSource,
  task: { id: string; creator: string; run: RunSpec },
  nowSeconds: number,
): string | undefined {
  if (task.run.network !== true) return undefined;
  const command = runCommand(task.run.runner);
  const args = networkArgs(task.id, task.run);
  const chains = authority.chainsFor(task.creator, command, nowSeconds);
  if (chains.some((chain) => chain.every((d) => matchPolicy(d.pol, args).ok))) return undefined;
  return `it asks for network, and the policies on its creator ${task.creator}'s ${command} do not allow network ` +
    `for this run; it runs once a space admin delegates them ${command} with a policy that allows it ` +
    `(e.g. [["==", ".network", true]]), or submit it without network`;
}
