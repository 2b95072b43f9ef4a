/**
 * Inbox: what in this space concerns you (model/inbox.ts) — removed from
 * it, a claim of yours lost when concurrent claims met, a task of yours
 * waiting for your approval, a run of yours that failed — newest first,
 * each linking to its task. A lost claim can be dismissed once seen.
 */
import type { Space } from "#protocol/space";
import { inboxOf } from "../../model/inbox.ts";
import { forgetClaim } from "../../model/my-claims.ts";
import { taskHref } from "../../model/route.ts";
import { useApp, useSpace } from "../context.ts";
import { ago, namesOf, who } from "../format.ts";
import { removedReason } from "../why-not.ts";
import { useState } from "preact/hooks";

const KIND_LABEL = {
  "removed": "removed",
  "lost-claim": "claim lost",
  "approval": "approval",
  "run-failed": "run failed",
} as const;

/** What concerns this device in the space, for the view and the navigation's count. */
export function inbox(space: Space, did: string) {
  return inboxOf(space, did, removedReason(space, did));
}

export function Inbox(props: { space: Space }) {
  const { bn } = useApp();
  useSpace(props.space);
  const items = inbox(props.space, bn.did);
  const names = namesOf(props.space);
  // Reasons come from the reducer with DIDs in them: say who instead.
  const readable = (text: string) => text.replace(/did:key:z[1-9A-HJ-NP-Za-km-z]+/g, (d) => who(d, names, bn.did));
  const [, setDismissed] = useState(0);
  const now = Date.now();
  return (
    <section aria-labelledby="inbox-title" class="stack">
      <h1 id="inbox-title">Inbox</h1>
      {items.length === 0 ? <p class="empty">Nothing here concerns you right now.</p> : (
        <ul class="plain stack inbox">
          {items.map((item) => (
            <li key={`${item.kind}-${item.op ?? item.task ?? ""}`} data-inbox={item.kind} data-task={item.task}>
              <span class="tag">{KIND_LABEL[item.kind]}</span>{" "}
              {item.task
                ? <a href={taskHref(props.space.id, item.task)}>{readable(item.text)}</a>
                : readable(item.text)} <span class="hint">{ago(item.at, now)}</span>
              {item.op && (
                <button
                  type="button"
                  class="link"
                  onClick={() => {
                    forgetClaim(item.op!);
                    setDismissed((n) => n + 1);
                  }}
                >
                  Dismiss
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
