/**
 * What a reviewer does on a patch's page: approve, request changes or
 * comment (one review, signed here), and merge — by fast-forward, or with
 * a merge commit made here when the target has moved on — each button
 * switched off with the reason in words beside it: a check missing or
 * failed, not enough approvals, no right to review or merge, the patch not
 * open.
 */
import { useState } from "preact/hooks";
import type { Patch, Readiness } from "#protocol/patch";
import type { Space } from "#protocol/space";
import { WeftError } from "#protocol";
import { commentBlocker, merge, review, reviewBlocker } from "../../model/patches.ts";
import { useAction, useApp } from "../context.ts";
import { connectedPeers, loadReader } from "../code/use-repo.ts";

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
  const { bn } = useApp();
  const { busy, run } = useAction();
  const { readiness, blockers } = props;
  const off = busy || blockers.length > 0 || !readiness;
  const withCommit = () =>
    void run(async () => {
      const [peer] = connectedPeers(bn);
      if (!peer) {
        throw new WeftError("Unavailable", "peer/unreachable", "no peer is connected: a merge commit goes through one");
      }
      const { read, mirror } = await loadReader();
      const me = { did: bn.did, signer: bn.node.signer };
      await read.mergeWithCommit({ me, space: props.space, patch: props.patch, readiness: readiness!, mirror, peer });
    }, "Merged with a merge commit");
  return (
    <section class="stack merge-box" aria-labelledby="merge-title">
      <h3 id="merge-title">Merge</h3>
      {readiness && (
        <p>
          Approvals: {readiness.approvals.have.length} of {readiness.approvals.need} needed. Merge fast-forwards{" "}
          <code>{props.patch.target}</code> to{" "}
          <code>{readiness.head.slice(0, 12)}</code>; when the target has moved on, merge with a merge commit made in
          this browser instead.
        </p>
      )}
      <div class="row">
        <button
          type="button"
          id="merge"
          disabled={off}
          aria-describedby={blockers.length > 0 ? "merge-why" : undefined}
          onClick={() => void run(() => merge(props.space, props.patch, readiness!), "Merged")}
        >
          Merge
        </button>
        <button
          type="button"
          id="merge-commit"
          disabled={off}
          aria-describedby={blockers.length > 0 ? "merge-why" : undefined}
          onClick={withCommit}
        >
          Merge with a merge commit
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
