/**
 * Whether patches may merge, judged in this browser (model/patches.ts),
 * recomputed only when what it depends on changes — a revision, a review,
 * a run result on the head commit — not on every sync event.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import type { Patch, Readiness } from "#protocol/patch";
import type { Space } from "#protocol/space";
import { readinessKey, readinessOf, resultsByCommit } from "../../model/patches.ts";
import { useApp } from "../context.ts";

/** Readiness of each open patch given, by id (absent while it is being judged). */
export function useReadiness(space: Space, patches: readonly Patch[], version: number): Map<string, Readiness> {
  const { bn } = useApp();
  const [out, setOut] = useState(new Map<string, Readiness>());
  const keys = useRef(new Map<string, string>());
  useEffect(() => {
    let gone = false;
    const results = resultsByCommit(space);
    void (async () => {
      for (const p of patches) {
        if (p.status !== "open") continue;
        const key = readinessKey(space, p, results);
        if (keys.current.get(p.id) === key) continue;
        keys.current.set(p.id, key);
        const r = await readinessOf(bn, space, p).catch(() => undefined);
        if (gone) {
          keys.current.delete(p.id);
          return;
        }
        if (r) setOut((m) => new Map(m).set(p.id, r));
      }
    })();
    return () => {
      gone = true;
    };
  }, [space, version, patches.map((p) => p.id).join(",")]);
  return out;
}
