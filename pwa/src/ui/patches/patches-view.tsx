/**
 * Patches: every patch of the space, newest first, filtered by state,
 * author and checks (passing, failing or missing, judged in this browser
 * by the same merge gate every node applies), each linking to its page.
 */
import { useMemo } from "preact/hooks";
import type { CheckStatus, Patch, PatchStatus } from "#protocol/patch";
import type { Space } from "#protocol/space";
import { checksSummary, listPatches } from "../../model/patches.ts";
import { navigate, patchHref, spaceHref } from "../../model/route.ts";
import { useApp, useSpace } from "../context.ts";
import { dateTime, namesOf, who } from "../format.ts";
import { CheckBadge, checkWord } from "./check-badge.tsx";
import { useReadiness } from "./use-readiness.ts";

const STATES: PatchStatus[] = ["open", "merged", "closed"];
const CHECKS: CheckStatus[] = ["passed", "failed", "missing"];
const STATE_CLASS: Record<PatchStatus, string> = { open: "s-open", merged: "s-done", closed: "s-cancelled" };

export function PatchStatusBadge(props: { status: PatchStatus }) {
  return <span class={`status ${STATE_CLASS[props.status]}`} data-patch-status={props.status}>{props.status}</span>;
}

/** What the checks of a patch add up to: judged now if open, as merged if merged; none for a closed one. */
export function checksOf(
  p: Patch,
  judged: Map<string, { checks: { status: CheckStatus }[] }>,
): CheckStatus | undefined {
  if (p.status === "merged") return "passed";
  const r = judged.get(p.id);
  return r && checksSummary(r.checks.map((c) => c.status));
}

export function PatchesView(props: { space: Space; query: URLSearchParams }) {
  const { bn } = useApp();
  const version = useSpace(props.space);
  const all = useMemo(() => listPatches(props.space), [props.space, version]);
  const names = useMemo(() => namesOf(props.space), [props.space, version]);
  const judged = useReadiness(props.space, all, version);
  const state = STATES.find((s) => s === props.query.get("state"));
  const author = props.query.get("author") ?? "";
  const checks = CHECKS.find((c) => c === props.query.get("checks"));
  const authors = [...new Set(all.map((p) => p.author))].sort();
  const shown = all.filter((p) =>
    (!state || p.status === state) && (!author || p.author === author) && (!checks || checksOf(p, judged) === checks)
  );
  const set = (k: string, v: string) =>
    navigate(
      spaceHref(props.space.id, "patches", {
        state: state ?? "",
        author,
        checks: checks ?? "",
        [k]: v,
      }),
      true,
    );
  return (
    <section aria-labelledby="patches-title" class="stack">
      <div class="row spread">
        <h1 id="patches-title">Patches</h1>
        <p class="count" aria-live="polite">{shown.length} of {all.length}</p>
      </div>
      <div class="row wrap">
        <label for="patches-state">State</label>
        <select id="patches-state" value={state ?? ""} onChange={(e) => set("state", e.currentTarget.value)}>
          <option value="">any</option>
          {STATES.map((s) => <option key={s} value={s}>{s}</option>)}
        </select>
        <label for="patches-author">Author</label>
        <select id="patches-author" value={author} onChange={(e) => set("author", e.currentTarget.value)}>
          <option value="">anyone</option>
          {authors.map((a) => <option key={a} value={a}>{who(a, names, bn.did)}</option>)}
        </select>
        <label for="patches-checks">Checks</label>
        <select id="patches-checks" value={checks ?? ""} onChange={(e) => set("checks", e.currentTarget.value)}>
          <option value="">any</option>
          {CHECKS.map((c) => <option key={c} value={c}>{checkWord(c)}</option>)}
        </select>
      </div>
      {shown.length === 0
        ? (
          <p class="empty">
            {all.length === 0
              ? "No patch in this space yet: propose one with `weft patch propose`."
              : "No patch matches."}
          </p>
        )
        : (
          <div class="table-wrap">
            <table class="patches">
              <caption class="sr-only">Patches, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Patch</th>
                  <th scope="col">State</th>
                  <th scope="col">Checks</th>
                  <th scope="col" class="wide">Into</th>
                  <th scope="col">Author</th>
                  <th scope="col" class="wide">Revisions</th>
                  <th scope="col" class="wide">Updated</th>
                </tr>
              </thead>
              <tbody>
                {shown.map((p) => (
                  <tr key={p.id} data-patch={p.id}>
                    <td>
                      <a href={patchHref(props.space.id, p.id)}>{p.title}</a>
                    </td>
                    <td>
                      <PatchStatusBadge status={p.status} />
                    </td>
                    <td>{p.status === "closed" ? "—" : <CheckBadge status={checksOf(p, judged)} />}</td>
                    <td class="wide">
                      {p.repo} → <code>{p.target.replace(/^refs\/heads\//, "")}</code>
                    </td>
                    <td>{who(p.author, names, bn.did)}</td>
                    <td class="wide">{p.revisions.length}</td>
                    <td class="wide">{dateTime(p.updatedAt[0])}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
    </section>
  );
}
