/**
 * What a reviewer does on a patch's page: approve, request changes or
 * comment (one review, signed here), and merge — each button switched off
 * with the reason in words beside it: a check missing or failed, not
 * enough approvals, no right to review or merge, the patch not open.
 */
import { useState } from "preact/hooks";
import type { Patch, Readiness } from "#protocol/patch";
import type { Space } from "#protocol/space";
import { commentBlocker, merge, review, reviewBlocker } from "../../model/patches.ts";
import { useAction, useApp } from "../context.ts";

export function ReviewBox(props: { space: Space; patch: Patch }) {
  const { bn } = useApp();
  const { busy, run } = useAction();
  const [body, setBody] = useState("");
  const verdictBlocked = reviewBlocker(props.space, bn.did, props.patch);
  const commentBlocked = commentBlocker(props.space, bn.did);
  const send = (verdict: "approve" | "request-changes" | "comment", done: string) =>
    void run(async () => {
      await review(props.space, props.patch, { verdict, ...(body.trim() ? { body: body.trim() } : {}) });
      setBody("");
    }, done);
  return (
    <form class="stack review-box" aria-labelledby="review-title" onSubmit={(e) => e.preventDefault()}>
      <h3 id="review-title">Your review of revision {props.patch.revisions.length}</h3>
      <label for="review-body">Summary (optional)</label>
      <textarea
        id="review-body"
        rows={3}
        maxLength={16_000}
        value={body}
        onInput={(e) => setBody(e.currentTarget.value)}
      />
      <div class="row wrap">
        <button
          type="button"
          id="approve"
          disabled={busy || !!verdictBlocked}
          onClick={() => send("approve", "Approved")}
        >
          Approve
        </button>
        <button
          type="button"
          id="request-changes"
          disabled={busy || !!verdictBlocked}
          onClick={() => send("request-changes", "Changes requested")}
        >
          Request changes
        </button>
        <button
          type="button"
          id="comment-review"
          disabled={busy || !!commentBlocked || !body.trim()}
          onClick={() => send("comment", "Comment signed and sent")}
        >
          Comment
        </button>
      </div>
      {verdictBlocked && <p class="why-not" data-why="review">Approve and request changes are off: {verdictBlocked}.
      </p>}
    </form>
  );
}

export function MergeBox(props: { space: Space; patch: Patch; readiness?: Readiness; blockers: string[] }) {
  const { busy, run } = useAction();
  const { readiness, blockers } = props;
  return (
    <section class="stack merge-box" aria-labelledby="merge-title">
      <h3 id="merge-title">Merge</h3>
      {readiness && (
        <p>
          Approvals: {readiness.approvals.have.length} of {readiness.approvals.need} needed; fast-forwards{" "}
          <code>{props.patch.target}</code> to <code>{readiness.head.slice(0, 12)}</code>.
        </p>
      )}
      <div class="row">
        <button
          type="button"
          id="merge"
          disabled={busy || blockers.length > 0 || !readiness}
          aria-describedby={blockers.length > 0 ? "merge-why" : undefined}
          onClick={() => void run(() => merge(props.space, props.patch, readiness!), "Merged")}
        >
          Merge
        </button>
      </div>
      {blockers.length > 0 && (
        <div id="merge-why" class="why-not">
          <p>Merge is off:</p>
          <ul>
            {blockers.map((b) => <li key={b} data-merge-blocker>{b}</li>)}
          </ul>
        </div>
      )}
    </section>
  );
}
