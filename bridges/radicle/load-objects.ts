/**
 * Every object of one COB type in the repository, each loaded from its
 * verified history and evaluated by its type (issues, patches), with the
 * changes refused or dropped on the way logged once each: what both
 * directions of the bridge read before they compare.
 */
import type { Change } from "./cob-change.ts";
import type { RadicleRepository } from "./repository.ts";
import { nidOf } from "./radicle-ids.ts";

export interface Loaded<T> {
  value: T;
  /** The root change's message (where the bridge names the Weft object it made it from). */
  rootMessage: string;
  /** Who signed the root change (a node id): only the bridge's own roots are believed about what they came from. */
  rootAuthor: string;
}

export interface LoadContext {
  repo: RadicleRepository;
  warnOnce(key: string, message: string, fields: Record<string, unknown>): void;
}

export async function loadEvaluated<T extends { dropped: { id: string; why: string }[] }>(
  c: LoadContext,
  typeName: string,
  evaluate: (changes: Change[], delegates: Set<string>) => T,
  delegates: Set<string>,
): Promise<Map<string, Loaded<T>>> {
  const out = new Map<string, Loaded<T>>();
  for (const [id, tips] of await c.repo.objectTips(typeName)) {
    const loaded = await c.repo.load(typeName, id, tips);
    for (const r of loaded.refused) {
      c.warnOnce(`refused ${r.id}`, "refused a Radicle change", { object: id, change: r.id, error: r.error.message });
    }
    if (loaded.changes.length === 0) continue;
    const value = evaluate(loaded.changes, delegates);
    for (const d of value.dropped) {
      c.warnOnce(`dropped ${d.id}`, "dropped a Radicle change", { object: id, change: d.id, why: d.why });
    }
    out.set(id, { value, rootMessage: loaded.changes[0].message, rootAuthor: nidOf(loaded.changes[0].signer) });
  }
  return out;
}
