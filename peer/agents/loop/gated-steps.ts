/**
 * The loop's side of the space's approval gates. Before a step a gate holds
 * back — its tests as a job with network, the push of its branch, a model
 * call that takes its spending past the threshold — the loop asks a person
 * (request-approval.ts): the plan it will follow, stated in full and bound
 * by its sha-256, and waits for the signed answer on the space's events
 * (no polling) while its lease keeps being renewed. It names the approval
 * in the gated operation, which every node checks (protocol/approvals/
 * gate.ts). An approval still usable for a later step of the same scope
 * (the same program; spending up to the amount approved) is used again
 * rather than asked for twice. A denial throws `approval/denied` with the
 * person's reason: the loop then comments and releases the task.
 */
import type { Space } from "#protocol/space";
import type { GatedStep } from "#protocol/approvals";
import type { PeerAgents } from "../peer-agents.ts";
import { type Approval, needsApproval, type PlanRequest } from "../request-approval.ts";
import { changed, type LoopStatus } from "./loop-status.ts";

/** An approval is not used again this close to its expiry: the step might land after it. */
const EXPIRY_MARGIN_MS = 60_000;

export class GatedSteps {
  readonly #agents: PeerAgents;
  readonly #space: Space;
  readonly #name: string;
  readonly #status: LoopStatus;
  readonly #signal: AbortSignal;
  readonly #granted: (Approval & { scope: PlanRequest })[] = [];

  constructor(agents: PeerAgents, space: Space, name: string, status: LoopStatus, signal: AbortSignal) {
    this.#agents = agents;
    this.#space = space;
    this.#name = name;
    this.#status = status;
    this.#signal = signal;
  }

  /**
   * The approval to name in `step`'s operation: none when no gate holds it
   * back, one already granted that covers it, or a person's answer to
   * `request` (asked for now and waited on).
   */
  async approval(step: GatedStep, request: () => Promise<PlanRequest> | PlanRequest): Promise<string | undefined> {
    if (!needsApproval(this.#space, step)) return undefined;
    const now = Date.now();
    const usable = this.#granted.find((a) => a.expires - EXPIRY_MARGIN_MS > now && covers(a.scope, step));
    if (usable) return usable.approval;
    const scope = await request();
    const previous = this.#status.step;
    this.#status.step = "approving";
    changed(this.#status);
    const started = performance.now();
    try {
      const approved = await this.#agents.requestApproval(this.#space, this.#name, scope, {
        signal: this.#signal,
        onRequest: (id, hash) => {
          this.#status.approval = { request: id, kind: step.kind, hash };
          changed(this.#status);
        },
      });
      this.#granted.push({ ...approved, scope });
      return approved.approval;
    } finally {
      this.#status.approval = undefined;
      this.#status.timings.approving = (this.#status.timings.approving ?? 0) +
        Math.round(performance.now() - started);
      this.#status.step = previous;
      changed(this.#status);
    }
  }
}

/** Does an approved request's scope cover `step` (the same test the gate makes on every node)? */
function covers(scope: PlanRequest, step: GatedStep): boolean {
  if (scope.kind === "network" && step.kind === "network") return scope.program === step.program;
  if (scope.kind === "spend" && step.kind === "spend") return step.to <= scope.upToUsd;
  if (scope.kind === "push" && step.kind === "push") return step.refs.every((r) => scope.refs.includes(r));
  return false;
}
