/**
 * Messages about what just happened: confirmations in a polite live region,
 * refusals and errors as alerts that can be dismissed. Both close by
 * themselves (errors after longer), a few at most are shown, and a message
 * repeated is counted on one notice instead of piling up.
 */
import type { Notice } from "./context.ts";

export interface ShownNotice extends Notice {
  id: number;
  /** How many times it was said while shown. */
  count: number;
}

const times = (n: ShownNotice) => (n.count > 1 ? ` (×${n.count})` : "");

export function Notices(props: { notices: ShownNotice[]; dismiss(id: number): void }) {
  const info = props.notices.filter((n) => !n.error);
  const errors = props.notices.filter((n) => n.error);
  return (
    <div class="notices">
      <div role="status" aria-live="polite">
        {info.map((n) => <p key={n.id} class="notice">{n.text + times(n)}</p>)}
      </div>
      <div role="alert">
        {errors.map((n) => (
          <p key={n.id} class="notice error">
            <span>{n.text + times(n)}</span>
            <button type="button" class="icon" aria-label="Dismiss" onClick={() => props.dismiss(n.id)}>×</button>
          </p>
        ))}
      </div>
    </div>
  );
}
