/**
 * What the agent loop calls before a step the space's gates hold back (a
 * job with network, a push to gated refs, spending past the threshold):
 * `requestApproval` signs the agent's request — the plan in full and its
 * sha-256 — in the space, and waits until a person answers, on whichever
 * node. It resolves with the approval to name in the gated operation
 * (`approval: <cid>`), rejects with `approval/denied` (and the person's
 * reason) on a denial, and with the kill switch's reason (`agent/stopped`)
 * if the agent is paused or revoked while it waits. Whether the step needs
 * an approval at all is `needsApproval`: the same check every node makes.
 */
import { randomBytes } from "node:crypto";
import { WeftError } from "#protocol";
import type { Signer } from "#protocol/identity";
import type { Space } from "#protocol/space";
import { Commands } from "#protocol/ucan";
import {
  APPROVAL_FAMILY,
  type ApprovalReducer,
  type ApprovalRequest,
  type GatedStep,
  isGated,
  planHash,
} from "#protocol/approvals";

/** What the loop asks a person to approve: the kind of step, the plan it will follow, and the step's scope. */
export type PlanRequest =
  & { plan: string | Record<string, unknown> }
  & (
    | { kind: "network"; program: string }
    | { kind: "push"; refs: string[] }
    | { kind: "spend"; upToUsd: number }
  );

/** A person's approval: name `approval` in the gated operation before `expires`. */
export interface Approval {
  request: string;
  /** The approve operation's CID. */
  approval: string;
  hash: string;
  by: string;
  /** Unix ms. */
  expires: number;
}

/** Does the space hold this step of an agent back until a person approves it? */
export function needsApproval(space: Space, step: GatedStep): boolean {
  return isGated(space.log.state<ApprovalReducer>(APPROVAL_FAMILY).gates, step);
}

/** The plan as the request carries it: text as given, JSON in a stable, readable form. */
export const planText = (plan: PlanRequest["plan"]): string =>
  typeof plan === "string" ? plan : JSON.stringify(plan, null, 2);

export interface ApprovalWait {
  /** Ends the wait (the agent's kill switch, its lease, its time limit). */
  signal?: AbortSignal;
  /** Hears the request's id and plan hash once it is signed, before the wait. */
  onRequest?: (id: string, hash: string) => void;
}

/**
 * Ask for a person's approval of `request`, signed by the agent's key
 * `signer`, and wait for the answer: woken by the space's events for this
 * request, never by polling.
 */
export async function requestApproval(
  space: Space,
  signer: Signer,
  request: PlanRequest,
  options: ApprovalWait = {},
): Promise<Approval> {
  options.signal?.throwIfAborted();
  const plan = planText(request.plan);
  const id = randomBytes(10).toString("hex");
  const { plan: _, ...scope } = request;
  const hash = planHash(plan);
  await space.perform(Commands.approvalRequest, { request: id, ...scope, plan, hash }, signer);
  options.onRequest?.(id, hash);
  const answer = (): ApprovalRequest | undefined => {
    const r = space.log.state<ApprovalReducer>(APPROVAL_FAMILY).requests.get(id);
    return r?.status === "pending" ? undefined : r;
  };
  const done = answer() ?? await new Promise<ApprovalRequest>((resolve, reject) => {
    const stop = () => {
      unsubscribe();
      reject(options.signal?.reason);
    };
    const unsubscribe = space.subscribe((e) => {
      if (e.type !== "objects" || e.family !== APPROVAL_FAMILY || !e.objects.includes(id)) return;
      const r = answer();
      if (!r) return;
      unsubscribe();
      options.signal?.removeEventListener("abort", stop);
      resolve(r);
    });
    options.signal?.addEventListener("abort", stop, { once: true });
    // Aborted while the request was being signed: the listener above would never fire.
    if (options.signal?.aborted) stop();
  });
  const a = done.answer!;
  if (done.status === "denied") {
    throw new WeftError(
      "ApprovalDenied",
      "approval/denied",
      `${a.by} denied request ${id}${a.reason ? `: ${a.reason}` : ""}; change the plan and ask again, or stop`,
    );
  }
  return { request: id, approval: a.op, hash: done.hash, by: a.by, expires: a.expires! };
}
