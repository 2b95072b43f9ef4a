/**
 * What each signed operation on a task said. The reduced task keeps only
 * who, when and which kind; the operation itself is in the task's bucket
 * document, by CID, so its arguments are read back from there — the
 * history shown is the signed record, not a summary someone else wrote.
 */
import type { WeftNode } from "#protocol/node";
import { type BucketDoc, bucketOf, type Space } from "#protocol/space";
import type { Refusal } from "#protocol";
import { decodeInvocation, type Invocation } from "#protocol/ucan";
import { opKindOf } from "#protocol/tasks";

/** The invocation `cid` of `task`, if this node holds it. */
export function readOp(node: WeftNode, space: Space, task: string, cid: string): Invocation | undefined {
  const ids = space.documentIds;
  if (ids.length < 2) return undefined;
  const handle = node.repo.handles[ids[1 + bucketOf(task, ids.length - 1)]];
  const bytes = handle?.isReady() ? (handle.doc() as BucketDoc | undefined)?.ops?.[cid] : undefined;
  if (!(bytes instanceof Uint8Array)) return undefined;
  try {
    return decodeInvocation(bytes);
  } catch {
    return undefined;
  }
}

const list = (v: unknown) => (Array.isArray(v) ? v.map(String).join(", ") : "");
const clip = (v: unknown, n = 80) => {
  const s = String(v ?? "");
  return s.length > n ? `${s.slice(0, n)}…` : s;
};

/** One line saying what an operation did. */
export function describeOp(inv: Invocation): string {
  const a = inv.args as Record<string, unknown>;
  const expires = typeof a.expires === "number" ? new Date(a.expires).toLocaleTimeString() : "";
  switch (opKindOf(inv.cmd)) {
    case "create":
      return [
        `created “${clip(a.title)}”`,
        a.labels ? `labels ${list(a.labels)}` : "",
        a.deps ? `after ${list(a.deps)}` : "",
      ]
        .filter(Boolean).join("; ");
    case "edit":
      return "edited " + ["title", "body", "requirements", "review"].filter((k) => k in a).join(", ");
    case "label":
      return [a.add ? `+${list(a.add)}` : "", a.remove ? `−${list(a.remove)}` : ""].filter(Boolean).join(" ");
    case "dependency":
      return a.add
        ? `now depends on ${String(a.add).slice(0, 6)}`
        : `no longer depends on ${String(a.remove).slice(0, 6)}`;
    case "comment":
      return `commented “${clip(a.body)}”`;
    case "claim":
      return `claimed with fence ${a.fence}, lease until ${expires}`;
    case "renew":
      return `renewed fence ${a.fence} until ${expires}`;
    case "release":
      return `released fence ${a.fence}`;
    case "start":
      return `started (fence ${a.fence})`;
    case "result":
      return `result: ${a.outcome}${a.exitCode !== undefined ? `, exit ${a.exitCode}` : ""}${
        a.summary ? ` — ${clip(a.summary)}` : ""
      }`;
    case "review":
      return `${a.verdict === "approve" ? "approved" : "rejected"}${a.body ? ` — ${clip(a.body)}` : ""}`;
    case "close":
      return `closed as ${a.outcome}`;
    case "cancel":
      return "cancelled";
    default:
      return inv.cmd;
  }
}

/** The CID of the operation a refusal is about, if it is about one. */
export function refusedCid(r: Refusal): string {
  return r.what.split(" ").pop() ?? "";
}

/**
 * A conflict the reducer noted when an operation arrived before one it
 * follows (a claim before its task's creation): once the earlier one
 * arrived, the operation applied after all.
 */
export function resolvedLater(space: Space, r: Refusal): boolean {
  return r.code === "task/conflict" && space.log.outcome(refusedCid(r))?.applied === true;
}

/** Refused operations about `task` (invalid, unauthorized, or conflicting) whose refusal still stands. */
export function refusalsOf(node: WeftNode, space: Space, task: string): Array<Refusal & { inv: Invocation }> {
  const out: Array<Refusal & { inv: Invocation }> = [];
  for (const r of node.diagnostics.refusals({ space: space.id, kind: "op" })) {
    const inv = readOp(node, space, task, refusedCid(r));
    if (inv && inv.args.task === task && !resolvedLater(space, r)) out.push({ ...r, inv });
  }
  return out;
}
