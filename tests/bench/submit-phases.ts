/**
 * A job submitted on a real peer and timed to its first log line, phase by
 * phase, so the runner benches (nix, containers) can say where the time
 * goes: the signed create acknowledged by the API; the run let go, its
 * claim durable (counted from the submit: the node claims a task made
 * through its own API while the create is written, one flush for both, and
 * makes the run ready meanwhile, so these two overlap); and the runner from
 * the let-go to the line. Shared by the benches so they split the time the
 * same way.
 */
import type { LogLine, RunSpec } from "../../protocol/runner/index.ts";
import { newTaskId } from "../../protocol/space/index.ts";
import type { TestDaemon } from "../helpers/daemon.ts";
import { eventually } from "../helpers/nodes.ts";
import { percentile, report } from "./report.ts";

export const PHASES = ["create-acknowledged", "claimed-since-submit", "runner-to-first-line"] as const;
export type Phase = (typeof PHASES)[number];

/** Each timed submit's phases, in ms, kept for `reportPhases`. */
export class SubmitTimer {
  readonly phases: Record<Phase, number[]> = Object.fromEntries(PHASES.map((p) => [p, []])) as never;
  readonly #peer: TestDaemon;
  readonly #space: string;

  constructor(peer: TestDaemon, space: string) {
    this.#peer = peer;
    this.#space = space;
  }

  /** Forget what was timed so far (after a warm-up). */
  reset(): void {
    for (const p of PHASES) this.phases[p].length = 0;
  }

  /**
   * Submits `run` on the peer; ms from submitting until the first log line `first` accepts is in the run's log.
   * Returns once the run has finished and its slot is free again (not timed), so the next submit measures a
   * start on an idle node rather than queueing behind this run's outputs and result.
   */
  async submit(run: RunSpec, first: (line: LogLine) => boolean, title = "bench"): Promise<number> {
    const scheduler = this.#peer.daemon.runs.scheduler;
    const task = newTaskId();
    const submitted = Date.now();
    await this.#peer.client.op(this.#space, "create", { task, title, run, idempotencyKey: task }, {
      path: `/v1/spaces/${encodeURIComponent(this.#space)}/schedule`,
    });
    const acknowledged = Date.now();
    let local = scheduler.run(this.#space, task);
    while (!local) {
      await new Promise((r) => setImmediate(r));
      local = scheduler.run(this.#space, task);
    }
    for await (const line of local.log.read(true)) {
      if (!first(line)) continue;
      const started = local.startedAt ?? submitted;
      this.phases["create-acknowledged"].push(acknowledged - submitted);
      this.phases["claimed-since-submit"].push(started - submitted);
      this.phases["runner-to-first-line"].push(line.at - started);
      await eventually(() => local.state === "done" && scheduler.free === scheduler.slots, 60_000, "the run's end");
      return line.at - submitted;
    }
    throw new Error(`the run of ${title} ended without its first line (${local.result?.reason ?? "no reason"})`);
  }
}

/** One figure per phase (p50), each against `baseline`, the whole raw tool in the same run. */
export function reportPhases(bench: string, prefix: string, timer: SubmitTimer, baseline: number, raw: string): void {
  for (const phase of PHASES) {
    const ms = [...timer.phases[phase]].sort((a, b) => a - b);
    report({
      bench,
      metric: `${prefix}submit-phase-${phase}-p50`,
      value: percentile(ms, 50),
      unit: "ms",
      baseline,
      note: "one phase of submit to first line (the create acknowledged by the API; the run let go, its claim " +
        "durable, from the submit — the two overlap; the runner from the let-go to the line), against the whole " +
        raw,
    });
  }
}
