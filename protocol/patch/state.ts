/** The reduced state of a patch, as every node computes it from the same operations. */
import type { Hlc } from "../tasks/hlc.ts";
import type { AgentProvenance, AnchoredComment } from "./ops.ts";
import type { CheckVerdict } from "./gate.ts";

export type PatchStatus = "open" | "closed" | "merged";

export interface Revision {
  /** The CID of the propose or revise operation that made it. */
  id: string;
  author: string;
  at: Hlc;
  base: string;
  head: string;
  description: string;
}

export interface Review {
  /** The CID of the review operation. */
  id: string;
  /** Whom it counts for: its signer, or the person the signer acted for (a bridge they paired; ucan/principal.ts). */
  author: string;
  /** Who signed it, when that is not `author` (the bridge). */
  signer?: string;
  at: Hlc;
  revision: string;
  verdict: "approve" | "request-changes" | "comment";
  body: string;
  comments: AnchoredComment[];
}

export interface Merge {
  op: string;
  by: string;
  at: Hlc;
  revision: string;
  commit: string;
  strategy: "fast-forward" | "merge-commit";
  /** The ref it moved to `commit`. */
  ref: string;
  /** How each required check was met. */
  checks: CheckVerdict[];
}

export interface Patch {
  id: string;
  repo: string;
  /** The ref it asks to land on. */
  target: string;
  title: string;
  author: string;
  createdAt: Hlc;
  updatedAt: Hlc;
  status: PatchStatus;
  tasks: string[];
  /** Oldest first; the last is the one to review and merge. */
  revisions: Revision[];
  reviews: Review[];
  merge?: Merge;
  /** How an agent made it, signed with its proposal (ops.ts agentProvenanceShape). */
  provenance?: AgentProvenance;
  /** Every applied operation, in order. */
  history: { op: string; kind: string; author: string; at: Hlc }[];
}

/** The latest revision of a patch. */
export function latestRevision(patch: Patch): Revision {
  return patch.revisions[patch.revisions.length - 1];
}

/** Reviewers (not the patch's author) whose latest verdict on `revision` approves it: each person once, however it reached the log. */
export function approversOf(patch: Patch, revision: string): string[] {
  const latest = new Map<string, Review["verdict"]>();
  for (const r of patch.reviews) {
    if (r.revision !== revision || r.author === patch.author || r.verdict === "comment") continue;
    latest.set(r.author, r.verdict);
  }
  return [...latest].filter(([, v]) => v === "approve").map(([who]) => who).sort();
}
