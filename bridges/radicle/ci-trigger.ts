/**
 * The trigger message radicle-ci-broker writes to an adapter's stdin (one
 * JSON object: `{"request":"trigger","version":…,"event_type":"push"|"patch",
 * "repository":{"id":"rad:…",…}, …}`; for a push the commit is `after`, for
 * a patch the patch's `after` or its latest revision's `oid`), and the
 * JSON lines an adapter answers with: `{"response":"triggered","run_id":
 * {"id":…}}`, then `{"response":"finished","result":"success"|"failure"}`.
 * Format from the broker's architecture document and its `broker-messages`
 * examples (the broker's own repository lives on Radicle, not GitHub).
 */
import { RadicleMalformed } from "./errors.ts";
import { checkOid, oidOfRid } from "./radicle-ids.ts";

export interface Trigger {
  event: "push" | "patch";
  rid: string;
  /** The commit to test. */
  commit: string;
  /** The pushed branch, for a push. */
  branch?: string;
  /** The patch id, for a patch. */
  patch?: string;
}

/** The largest trigger message read (a patch with many revisions is a few hundred KB at most). */
export const MAX_TRIGGER_BYTES = 1024 * 1024;

const obj = (v: unknown): Record<string, unknown> | undefined =>
  v && typeof v === "object" && !Array.isArray(v) ? v as Record<string, unknown> : undefined;

export function parseTrigger(text: string): Trigger {
  if (text.length > MAX_TRIGGER_BYTES) throw new RadicleMalformed("trigger", "is larger than 1 MiB");
  let m: Record<string, unknown> | undefined;
  try {
    m = obj(JSON.parse(text));
  } catch {
    throw new RadicleMalformed("trigger", "is not JSON");
  }
  if (!m) throw new RadicleMalformed("trigger", "is not a JSON object");
  if (m.request !== "trigger") {
    throw new RadicleMalformed("trigger", `request is ${JSON.stringify(m.request)}, not "trigger"`);
  }
  const rid = obj(m.repository)?.id;
  if (typeof rid !== "string") throw new RadicleMalformed("trigger", "names no repository.id");
  oidOfRid(rid);
  if (m.event_type === "push") {
    const branch = typeof m.branch === "string" ? m.branch : undefined;
    return { event: "push", rid, commit: checkOid(m.after, "trigger's after"), branch };
  }
  if (m.event_type === "patch") {
    const patch = obj(m.patch);
    if (!patch) throw new RadicleMalformed("trigger", "a patch event carries no patch");
    const revisions = Array.isArray(patch.revisions) ? patch.revisions : [];
    const commit = patch.after ?? obj(revisions.at(-1))?.oid;
    return {
      event: "patch",
      rid,
      commit: checkOid(commit, "trigger's patch head"),
      patch: checkOid(patch.id, "patch id"),
    };
  }
  throw new RadicleMalformed("trigger", `event_type is ${JSON.stringify(m.event_type)}, not "push" or "patch"`);
}

export const triggered = (runId: string) => JSON.stringify({ response: "triggered", run_id: { id: runId } });
export const finished = (ok: boolean) => JSON.stringify({ response: "finished", result: ok ? "success" : "failure" });
