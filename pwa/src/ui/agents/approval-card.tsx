/**
 * An agent's request for a person's approval, shown exactly as it would be
 * approved: the kind of step, its scope (the program, the refs, how far it
 * may spend), the plan in full and the sha-256 the answer is bound to.
 * Approve (for how long) and Deny (saying why) are signed with this
 * browser's key; both are off, with the reason, for someone who may not
 * answer.
 */
import { useState } from "preact/hooks";
import type { ApprovalRequest } from "#protocol/approvals";
import type { Space } from "#protocol/space";
import { answerBlocker, APPROVAL_MS, approve, deny, usd } from "../../model/agents.ts";
import { useAction, useApp } from "../context.ts";
import { dateTime, who } from "../format.ts";

const FOR: [number, string][] = [
  [15 * 60_000, "15 minutes"],
  [APPROVAL_MS, "1 hour"],
  [24 * 60 * 60_000, "1 day"],
];

const KIND_WORDS = { network: "run a job with network", push: "push", spend: "spend more" } as const;

function scope(r: ApprovalRequest): string {
  if (r.kind === "network") return `program ${r.program}`;
  if (r.kind === "push") return (r.refs ?? []).join(", ");
  return `up to ${usd(r.upToUsd ?? 0)} spent in this space`;
}

export function ApprovalCard(props: { space: Space; request: ApprovalRequest; names: Map<string, string> }) {
  const { bn } = useApp();
  const { busy, run } = useAction();
  const { space, request: r } = props;
  const [forMs, setForMs] = useState(APPROVAL_MS);
  const [reason, setReason] = useState("");
  const blocked = answerBlocker(space, bn.did);
  const id = `req-${r.id}`;
  return (
    <article class="card stack" aria-labelledby={id} data-request={r.id}>
      <h3 id={id}>
        {who(r.author, props.names, bn.did)} asks to {KIND_WORDS[r.kind]}
      </h3>
      <dl class="facts">
        <dt>Scope</dt>
        <dd data-scope>{scope(r)}</dd>
        <dt>Asked</dt>
        <dd>{dateTime(r.at[0])}</dd>
        <dt>Plan sha-256</dt>
        <dd>
          <code data-plan-hash>{r.hash}</code>
        </dd>
      </dl>
      <p class="hint">The plan, exactly as you approve it (your answer names its hash):</p>
      <pre class="log plan" data-plan tabIndex={0}>{r.plan}</pre>
      <div class="row wrap">
        <label for={`${id}-for`}>Usable for</label>
        <select
          id={`${id}-for`}
          value={String(forMs)}
          onChange={(e) => setForMs(Number(e.currentTarget.value))}
          disabled={!!blocked}
        >
          {FOR.map(([ms, words]) => <option key={ms} value={ms}>{words}</option>)}
        </select>
        <button
          type="button"
          data-approve
          disabled={busy || !!blocked}
          onClick={() => void run(() => approve(space, r, forMs), `Approved ${r.id}`)}
        >
          Approve
        </button>
      </div>
      <div class="row wrap">
        <label for={`${id}-why`}>Reason</label>
        <input
          id={`${id}-why`}
          maxLength={2000}
          value={reason}
          disabled={!!blocked}
          onInput={(e) => setReason(e.currentTarget.value)}
        />
        <button
          type="button"
          class="danger"
          data-deny
          disabled={busy || !!blocked}
          onClick={() => void run(() => deny(space, r, reason.trim()), `Denied ${r.id}`)}
        >
          Deny
        </button>
      </div>
      {blocked && <p class="why-not" data-why="answer">Approve and deny are off: {blocked}.</p>}
    </article>
  );
}
