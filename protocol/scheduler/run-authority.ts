/**
 * Who may have a job run: the principal who asked for it — the issuer of
 * the signed operation that created the task (its creator), never a claim
 * in the task — must hold /weft/run/<kind> (or a prefix such as /weft/run)
 * in the space, for the kind of runner that would run it. Every node checks
 * this against the space's delegations, which it verifies itself, both when
 * placing a job and just before starting one; so no node runs a job its
 * creator could not ask for, whatever the node itself may run. A job that
 * asks for network also needs a policy that allows it (network-grant.ts). A refused
 * job stays open; a comment on it says why, once.
 */
import { runCommand } from "../artifacts/build.ts";
import type { Diagnostics } from "../diagnostics.ts";
import type { Signer } from "../identity/ed25519.ts";
import type { Space } from "../space/space.ts";
import type { Task } from "../tasks/state.ts";
import type { RunSpec } from "../runner/runner.ts";
import { networkRefusal } from "./network-grant.ts";
import { needOf } from "./placement.ts";

/**
 * Whether principals held run commands, remembered for one second of the
 * clock: a sweep looks at every queued task, and many share a creator.
 */
export class RunRightsCache {
  #second = -1;
  readonly #held = new Map<string, boolean>();

  holds(space: Space, did: string, command: string, now: number): boolean {
    if (now !== this.#second) {
      this.#second = now;
      this.#held.clear();
    }
    const key = `${space.id}\n${did}\n${command}`;
    let held = this.#held.get(key);
    if (held === undefined) {
      held = space.authority.chainsFor(did, command, now).length > 0;
      if (this.#held.size < 100_000) this.#held.set(key, held);
    }
    return held;
  }
}

/**
 * Why the creator of `task` may not have it run now, for people; undefined
 * if they may. `cache` may answer from this second's earlier checks.
 */
export function runRefusal(
  space: Space,
  task: Task & { run: RunSpec },
  nowMs: number,
  cache?: RunRightsCache,
): string | undefined {
  const kinds = new Set([task.run.runner, needOf(task).runner ?? task.run.runner]);
  const now = Math.floor(nowMs / 1000);
  for (const kind of kinds) {
    const command = runCommand(kind);
    const held = cache
      ? cache.holds(space, task.creator, command, now)
      : space.authority.chainsFor(task.creator, command, now).length > 0;
    if (held) continue;
    return `its creator ${task.creator} does not hold ${command} in this space, so no node runs it; ` +
      `it runs once a space admin delegates them ${command} (or /weft/run)`;
  }
  return networkRefusal(space.authority, task, now);
}

/**
 * Why a job's creator may not have it run now — paused (the kill switch on
 * an agent: its jobs are neither placed nor kept running), or without the
 * right to run it (runRefusal) — or undefined while it may.
 */
export function creatorStopped(
  space: Space,
  task: Task & { run: RunSpec },
  nowMs: number,
  cache?: RunRightsCache,
): string | undefined {
  const pause = space.log.reducer.spend.paused(task.creator);
  if (pause) return `its creator ${task.creator} was paused by ${pause.by}${pause.reason ? `: ${pause.reason}` : ""}`;
  return runRefusal(space, task, nowMs, cache);
}

/** The comment a node leaves on a task it will not run, saying why. */
export function refusalNote(reason: string): string {
  return `Not run: ${reason}.`.slice(0, 16_000);
}

/**
 * The comments a node leaves on tasks it will not run: one per task, however
 * often it looks at them; signed by `as` when a bridge runs the jobs here.
 */
export class RefusalNotes {
  readonly #noted = new Set<string>();
  readonly #as?: Signer;

  constructor(as?: Signer) {
    if (as) this.#as = as;
  }

  /** Say on `task` why it is not run, unless this node or another already said so. */
  note(space: Space, task: Task, reason: string, diagnostics?: Diagnostics): void {
    const key = `${space.id}/${task.id}`;
    const body = refusalNote(reason);
    if (this.#noted.has(key) || task.comments.some((c) => c.body === body)) return;
    if (this.#noted.size >= 10_000) this.#noted.clear();
    this.#noted.add(key);
    diagnostics?.count("scheduler.runs-refused");
    const args = { task: task.id, body };
    (this.#as ? space.actAs(this.#as, "comment", args) : space.act("comment", args)).catch(() =>
      this.#noted.delete(key)
    );
  }
}
