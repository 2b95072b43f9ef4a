/**
 * The reduction of approval operations, the same on every node: the gates
 * in force (the latest `gates` operation in log order), every request with
 * its plan, and the one answer each gets. The first answer in log order
 * stands; a later one is refused. An answer counts only if it names the
 * request's plan hash, was made after seeing the request (its causal
 * past), and comes from a person: not the requesting agent, and not any
 * principal whose authority runs through an agent's delegation.
 */
import type { FamilyReducer, Outcome, ReduceContext } from "../tasks/family.ts";
import type { Hlc } from "../tasks/hlc.ts";
import type { ApprovalOp, GatedKind } from "./ops.ts";

export const APPROVAL_FAMILY = "approval";

/** The gates in force: which steps of an agent need an approval. */
export interface Gates {
  /** The gates operation's CID. */
  op: string;
  by: string;
  network: boolean;
  push: string[];
  spendUsd?: number;
}

export interface ApprovalAnswer {
  /** The approve or deny operation's CID. */
  op: string;
  /** Whom it counts for: its signer, or the person the signer acted for (a bridge they paired; ucan/principal.ts). */
  by: string;
  /** Who signed it, when that is not `by` (the bridge). */
  signer?: string;
  at: Hlc;
  /** Unix ms (approvals only). */
  expires?: number;
  reason?: string;
}

/** A request, as every node reduces it. */
export interface ApprovalRequest {
  id: string;
  /** The request operation's CID. */
  op: string;
  /** The agent that asked. */
  author: string;
  at: Hlc;
  kind: GatedKind;
  plan: string;
  hash: string;
  program?: string;
  refs?: string[];
  upToUsd?: number;
  status: "pending" | "approved" | "denied";
  answer?: ApprovalAnswer;
}

const OK: Outcome = { applied: true };
const refuse = (reason: string): Outcome => ({ applied: false, reason });

export class ApprovalReducer implements FamilyReducer<ApprovalOp> {
  gates: Gates | undefined;
  readonly requests: Map<string, ApprovalRequest>;
  /** Request ids by the CID of the approve operation that approved them. */
  readonly #byApproval: Map<string, string>;

  constructor(
    gates?: Gates,
    requests = new Map<string, ApprovalRequest>(),
    byApproval = new Map<string, string>(),
  ) {
    this.gates = gates;
    this.requests = requests;
    this.#byApproval = byApproval;
  }

  fork(): ApprovalReducer {
    // Requests change only when answered, and are copied then.
    return new ApprovalReducer(this.gates, new Map(this.requests), new Map(this.#byApproval));
  }

  /** The request an approve operation approved, if it did. */
  approvedBy(approvalCid: string): ApprovalRequest | undefined {
    const id = this.#byApproval.get(approvalCid);
    return id === undefined ? undefined : this.requests.get(id);
  }

  apply(op: ApprovalOp, context?: ReduceContext): Outcome {
    switch (op.kind) {
      case "gates": {
        const a = op.args;
        this.gates = {
          op: op.cid,
          by: op.author,
          network: a.network ?? false,
          push: [...(a.push ?? [])],
          ...(a.spendUsd !== undefined ? { spendUsd: a.spendUsd } : {}),
        };
        return OK;
      }
      case "request": {
        const a = op.args;
        if (this.requests.has(a.request)) return refuse(`request ${a.request} already exists`);
        this.requests.set(a.request, {
          id: a.request,
          op: op.cid,
          author: op.author,
          at: a.at,
          kind: a.kind,
          plan: a.plan,
          hash: a.hash,
          ...(a.program !== undefined ? { program: a.program } : {}),
          ...(a.refs !== undefined ? { refs: [...a.refs] } : {}),
          ...(a.upToUsd !== undefined ? { upToUsd: a.upToUsd } : {}),
          status: "pending",
        });
        return OK;
      }
      case "approve":
      case "deny":
        return this.#answer(op, context);
    }
  }

  #answer(
    op: Extract<ApprovalOp, { kind: "approve" | "deny" }>,
    context?: ReduceContext,
  ): Outcome {
    const a = op.args;
    const request = this.requests.get(a.request);
    if (!request) return refuse(`no request ${a.request}`);
    if (a.hash !== request.hash) {
      return refuse(`names plan hash ${a.hash}, but request ${a.request}'s plan hashes to ${request.hash}`);
    }
    if (context && !context.precedes(request.op, op.cid)) {
      return refuse(`was made without seeing request ${a.request}: an answer must follow what it answers`);
    }
    const by = context?.principalOf(op) ?? op.author;
    if (op.author === request.author || by === request.author) return refuse("an agent cannot answer its own request");
    if (context?.isAgent(op)) return refuse(`${op.author} acts under an agent's delegation: only a person answers`);
    if (request.status !== "pending") {
      return refuse(`request ${a.request} was already ${request.status} (${request.answer?.op})`);
    }
    const answer: ApprovalAnswer = {
      op: op.cid,
      by,
      ...(by === op.author ? {} : { signer: op.author }),
      at: a.at,
      ...("expires" in a ? { expires: a.expires } : {}),
      ...("reason" in a && a.reason !== undefined ? { reason: a.reason } : {}),
    };
    this.requests.set(a.request, {
      ...request,
      status: op.kind === "approve" ? "approved" : "denied",
      answer,
    });
    if (op.kind === "approve") this.#byApproval.set(op.cid, a.request);
    return OK;
  }
}
