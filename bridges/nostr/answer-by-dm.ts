/**
 * "approve patch 3f2a", "deny 9c1e: not this way": a person answers an open
 * patch (a review: approve, or request changes) or an agent's pending
 * request (approve or deny, bound to the hash of its plan) by DM. The id
 * prefix is looked up in every space the person delegated to the bridge in;
 * when it matches more than one thing the answer lists them and nothing is
 * done. What is signed is signed as the bridge, under the person's own
 * delegation (`via`), so every node checks it; a person who did not
 * delegate the command is told what to grant.
 */
import type { BridgeContext, BridgeSpace } from "#protocol/bridge";
import type { ApprovalRequest } from "#protocol/approvals";
import { latestRevision, type Patch } from "#protocol/patch";
import { Commands } from "#protocol/ucan";
import { refusal } from "./refusal.ts";

type Hit =
  | { what: "patch"; space: BridgeSpace; patch: Patch }
  | { what: "request"; space: BridgeSpace; request: ApprovalRequest };

export interface AnswerAsk {
  kind: "approve" | "deny";
  prefix: string;
  what?: "patch" | "request";
  reason?: string;
}

/** How many candidates an ambiguous prefix lists. */
const LISTED = 8;
/** How much of a plan an answer quotes. */
const QUOTED = 200;

const firstLine = (text: string) => {
  const line = text.split("\n")[0];
  return line.length > QUOTED ? `${line.slice(0, QUOTED)}…` : line;
};

function nameOf(space: BridgeSpace, did: string): string {
  return space.members().find((m) => m.did === did)?.name ?? did;
}

function describe(hit: Hit): string {
  return hit.what === "patch"
    ? `patch ${hit.patch.id} in ${hit.space.name}: ${hit.patch.title}`
    : `request ${hit.request.id} in ${hit.space.name} (${hit.request.kind}, by ${
      nameOf(hit.space, hit.request.author)
    }): ${firstLine(hit.request.plan)}`;
}

/** Open patches and pending requests whose id starts with `prefix`, in `spaces`. */
export function findAnswerable(spaces: BridgeSpace[], prefix: string, what?: "patch" | "request"): Hit[] {
  const hits: Hit[] = [];
  for (const space of spaces) {
    if (what !== "request") {
      for (const patch of space.patches()) {
        if (patch.status === "open" && patch.id.startsWith(prefix)) hits.push({ what: "patch", space, patch });
      }
    }
    if (what !== "patch") {
      for (const request of space.approvals()) {
        if (request.status === "pending" && request.id.startsWith(prefix)) {
          hits.push({ what: "request", space, request });
        }
      }
    }
  }
  return hits;
}

/**
 * Answer what `ask` names for `person`, in `spaces`; resolves with the reply.
 * `approvalTtlMs`: how long an approval of a request lets its step through.
 */
export async function answerByDm(
  context: BridgeContext,
  spaces: BridgeSpace[],
  person: string,
  ask: AnswerAsk,
  approvalTtlMs: number,
): Promise<string> {
  const hits = findAnswerable(spaces, ask.prefix, ask.what);
  const thing = ask.what ?? "patch or request";
  if (hits.length === 0) return `No open ${thing} ${ask.prefix}… in your spaces.`;
  if (hits.length > 1) {
    const more = hits.length > LISTED ? `\n…and ${hits.length - LISTED} more` : "";
    return `${ask.prefix} matches ${hits.length} things; I did nothing. Say more of the id:\n` +
      hits.slice(0, LISTED).map(describe).join("\n") + more;
  }
  const [hit] = hits;
  return hit.what === "patch"
    ? await reviewPatch(context, hit.space, hit.patch, person, ask)
    : await answerRequest(context, hit.space, hit.request, person, ask, approvalTtlMs);
}

async function reviewPatch(
  context: BridgeContext,
  space: BridgeSpace,
  patch: Patch,
  person: string,
  ask: AnswerAsk,
): Promise<string> {
  if (!space.holds(Commands.patchReview, { via: person })) {
    return refusal(context, space, Commands.patchReview, "review patches");
  }
  if (patch.author === person) {
    return `Patch ${patch.id} is yours: someone else reviews it.`;
  }
  const revision = latestRevision(patch);
  const n = patch.revisions.length;
  // Every node counts a review for the person it was made for (ucan/principal.ts), however it reached the log.
  const latest = patch.reviews.findLast((r) =>
    r.revision === revision.id && r.author === person && r.verdict !== "comment"
  );
  if (ask.kind === "approve" && latest?.verdict === "approve") {
    return `You approved revision ${n} of patch ${patch.id} already.`;
  }
  const verdict = ask.kind === "approve" ? "approve" : "request-changes";
  const body = `${ask.kind === "approve" ? "Approved" : "Changes requested"} by ${person} by Nostr DM` +
    (ask.reason ? `: ${ask.reason.slice(0, 2000)}` : "");
  await space.perform(Commands.patchReview, { patch: patch.id, revision: revision.id, verdict, body }, {
    via: person,
  });
  return `${ask.kind === "approve" ? "Approved" : "Requested changes to"} revision ${n} of patch ${patch.id} ` +
    `in ${space.name}: ${patch.title}`;
}

async function answerRequest(
  context: BridgeContext,
  space: BridgeSpace,
  request: ApprovalRequest,
  person: string,
  ask: AnswerAsk,
  approvalTtlMs: number,
): Promise<string> {
  const command = ask.kind === "approve" ? Commands.approvalApprove : Commands.approvalDeny;
  if (!space.holds(command, { via: person })) {
    return refusal(context, space, command, `${ask.kind} agents' requests`);
  }
  const agent = nameOf(space, request.author);
  if (ask.kind === "approve") {
    const expires = Date.now() + approvalTtlMs;
    await space.perform(command, { request: request.id, hash: request.hash, expires }, { via: person });
    return `Approved ${agent}'s request ${request.id} in ${space.name} until ` +
      `${new Date(expires).toISOString().slice(0, 16).replace("T", " ")} UTC: ${firstLine(request.plan)}`;
  }
  await space.perform(command, {
    request: request.id,
    hash: request.hash,
    ...(ask.reason ? { reason: ask.reason.slice(0, 2000) } : {}),
  }, { via: person });
  return `Denied ${agent}'s request ${request.id} in ${space.name}.`;
}
