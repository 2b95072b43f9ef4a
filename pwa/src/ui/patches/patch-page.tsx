/**
 * One patch: what it is and where it lands, its revisions (any two compared
 * side by side: the diff between their heads), the diff per file of the
 * revision shown with the comments anchored to its lines (and a button on
 * each line to add one, signed here), the reviews, the checks with their
 * runs, logs and provenance, and the approve, request-changes and merge
 * buttons — each saying why, when it is switched off. The diff is read from
 * this browser's copy of the repository, so it stays readable offline.
 */
import { useMemo, useState } from "preact/hooks";
import { latestRevision, type Patch } from "#protocol/patch";
import type { Space } from "#protocol/space";
import { commentBlocker, mergeBlockers, patchState, review } from "../../model/patches.ts";
import { navigate, patchHref, spaceHref, taskHref } from "../../model/route.ts";
import { useAction, useApp, useSpace } from "../context.ts";
import { dateTime, namesOf, who } from "../format.ts";
import { type Commenting, type DiffMode, DiffModeSwitch, DiffView, type LineComment } from "../code/diff-view.tsx";
import { useDiff } from "../code/use-diff.ts";
import { useRepo } from "../code/use-repo.ts";
import { PatchChecks } from "./patch-checks.tsx";
import { MergeBox, ReviewBox } from "./patch-actions.tsx";
import { PatchStatusBadge } from "./patches-view.tsx";
import { useReadiness } from "./use-readiness.ts";

export function PatchPage(props: { space: Space; id: string; query: URLSearchParams }) {
  const version = useSpace(props.space);
  const patch = patchState(props.space).patches.get(props.id);
  if (!patch) {
    return (
      <section aria-labelledby="patch-title">
        <h1 id="patch-title">No such patch</h1>
        <p>
          This space has no patch <code>{props.id}</code> (yet: it may not have synced here).{" "}
          <a href={spaceHref(props.space.id, "patches")}>All patches</a>
        </p>
      </section>
    );
  }
  return <PatchBody space={props.space} patch={patch} query={props.query} version={version} />;
}

/** Which commits the diff compares: `from`/`to` revision numbers (1-based; `from=0` is the base of `to`). */
function compared(patch: Patch, query: URLSearchParams) {
  const n = patch.revisions.length;
  const clamp = (v: string | null, d: number, min: number) => {
    const x = Number(v ?? d);
    return Number.isInteger(x) && x >= min && x <= n ? x : d;
  };
  const to = clamp(query.get("to"), n, 1);
  const from = clamp(query.get("from"), 0, 0);
  const toRev = patch.revisions[to - 1];
  const fromCommit = from === 0 || from >= to ? toRev.base : patch.revisions[from - 1].head;
  return { from: from >= to ? 0 : from, to, fromCommit, toRev };
}

function PatchBody(props: { space: Space; patch: Patch; query: URLSearchParams; version: number }) {
  const { bn } = useApp();
  const { space, patch } = props;
  const names = useMemo(() => namesOf(space), [space, props.version]);
  const commits = useMemo(() => patch.revisions.flatMap((r) => [r.base, r.head]), [patch.revisions.length]);
  const status = useRepo(bn, space, patch.repo, commits);
  const [mode, setMode] = useState<DiffMode>("unified");
  const { from, to, fromCommit, toRev } = compared(patch, props.query);
  const { diffs, error } = useDiff(status, fromCommit, toRev.head);
  const readiness = useReadiness(space, [patch], props.version).get(patch.id);
  const { run } = useAction();
  const latest = latestRevision(patch);
  const commenting: Commenting = {
    at: anchored(patch, toRev.id, names, bn.did),
    blocked: commentBlocker(space, bn.did),
    add: (path, line, body) =>
      run(
        () => review(space, patch, { verdict: "comment", revision: toRev.id, comments: [{ path, line, body }] }),
        "Comment signed and sent",
      ),
  };
  const show = (q: Record<string, string>) => navigate(patchHref(space.id, patch.id, q), true);
  return (
    <article aria-labelledby="patch-title" class="stack" data-patch-page={patch.id}>
      <p>
        <a href={spaceHref(space.id, "patches")}>Patches</a>
      </p>
      <div class="row wrap">
        <h1 id="patch-title">{patch.title}</h1>
        <PatchStatusBadge status={patch.status} />
      </div>
      <dl class="facts">
        <dt>Into</dt>
        <dd>
          {patch.repo} → <code>{patch.target}</code>
        </dd>
        <dt>Author</dt>
        <dd>{who(patch.author, names, bn.did)}</dd>
        <dt>Opened</dt>
        <dd>{dateTime(patch.createdAt[0])}</dd>
        {patch.tasks.length > 0 && (
          <>
            <dt>Tasks</dt>
            <dd>
              {patch.tasks.map((t) => <a key={t} href={taskHref(space.id, t)}>{t.slice(0, 8)}</a>)}
            </dd>
          </>
        )}
        {patch.merge && (
          <>
            <dt>Merged</dt>
            <dd data-merged={patch.merge.commit}>
              by {who(patch.merge.by, names, bn.did)}: <code>{patch.merge.ref}</code> →{" "}
              <code>{patch.merge.commit.slice(0, 12)}</code>
            </dd>
          </>
        )}
      </dl>
      {latest.description && <p class="description">{latest.description}</p>}

      <h2 id="revisions-title">Revisions</h2>
      <ol class="revisions" aria-labelledby="revisions-title">
        {patch.revisions.map((r, i) => (
          <li key={r.id} data-revision={i + 1}>
            <code>{r.base.slice(0, 8)}..{r.head.slice(0, 8)}</code> by {who(r.author, names, bn.did)},{" "}
            {dateTime(r.at[0])} <a href={patchHref(space.id, patch.id, { to: String(i + 1) })}>changes</a>
            {i > 0 && (
              <>
                {" · "}
                <a href={patchHref(space.id, patch.id, { from: String(i), to: String(i + 1) })} data-interdiff={i + 1}>
                  since revision {i}
                </a>
              </>
            )}
          </li>
        ))}
      </ol>

      <h2 id="diff-title">Diff</h2>
      <div class="row wrap">
        <label for="diff-from">From</label>
        <select
          id="diff-from"
          value={String(from)}
          onChange={(e) => show({ from: e.currentTarget.value, to: String(to) })}
        >
          <option value="0">the base of revision {to}</option>
          {patch.revisions.slice(0, to - 1).map((_, i) => (
            <option key={i} value={String(i + 1)}>revision {i + 1}</option>
          ))}
        </select>
        <label for="diff-to">To</label>
        <select id="diff-to" value={String(to)} onChange={(e) => show({ to: e.currentTarget.value })}>
          {patch.revisions.map((_, i) => <option key={i} value={String(i + 1)}>revision {i + 1}</option>)}
        </select>
        <DiffModeSwitch mode={mode} set={setMode} />
      </div>
      <p class="hint" data-fetch-state={status.state} aria-live="polite">
        {status.state === "fetching"
          ? "Fetching the commits from a peer…"
          : status.state === "stale"
          ? `Showing this browser's copy: ${status.error}`
          : "The commits are in this browser."}
      </p>
      {error
        ? <p class="empty">{error}</p>
        : diffs
        ? <DiffView diffs={diffs} mode={mode} commenting={commenting} />
        : <p class="hint">Reading…</p>}

      <h2 id="reviews-title">Reviews</h2>
      <Reviews patch={patch} names={names} me={bn.did} />
      <ReviewBox space={space} patch={patch} />

      <h2 id="checks-title">Checks</h2>
      <PatchChecks space={space} {...(patch.merge ? { checks: patch.merge.checks } : { readiness })} />
      {patch.status === "open" && (
        <MergeBox
          space={space}
          patch={patch}
          readiness={readiness}
          blockers={mergeBlockers(space, bn.did, patch, readiness)}
        />
      )}
    </article>
  );
}

/** The comments of reviews of `revision`, by `path:line`. */
function anchored(patch: Patch, revision: string, names: Map<string, string>, me: string): Map<string, LineComment[]> {
  const at = new Map<string, LineComment[]>();
  for (const r of patch.reviews) {
    if (r.revision !== revision) continue;
    r.comments.forEach((c, i) => {
      const key = `${c.path}:${c.line}`;
      at.set(key, [...(at.get(key) ?? []), { id: `${r.id}:${i}`, author: who(r.author, names, me), body: c.body }]);
    });
  }
  return at;
}

const VERDICT = { approve: "approved", "request-changes": "requested changes", comment: "commented" } as const;

function Reviews(props: { patch: Patch; names: Map<string, string>; me: string }) {
  const { patch } = props;
  if (patch.reviews.length === 0) return <p class="empty">No review yet.</p>;
  return (
    <ul class="plain stack reviews">
      {patch.reviews.map((r) => (
        <li key={r.id} data-review={r.verdict}>
          <strong>{who(r.author, props.names, props.me)}</strong> {VERDICT[r.verdict]} on revision{" "}
          {patch.revisions.findIndex((x) => x.id === r.revision) + 1}, {dateTime(r.at[0])}
          {r.body && <p>{r.body}</p>}
          {r.comments.length > 0 && (
            <ul>
              {r.comments.map((c, i) => (
                <li key={i}>
                  <code>{c.path}:{c.line}</code> {c.body}
                </li>
              ))}
            </ul>
          )}
        </li>
      ))}
    </ul>
  );
}
