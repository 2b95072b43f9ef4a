/**
 * Messages about what just happened: confirmations in a polite live region
 * (they fade after a few seconds), refusals and errors as alerts that stay
 * until dismissed.
 */
import type { Notice } from "./context.ts";

export interface ShownNotice extends Notice {
  id: number;
}

export function Notices(props: { notices: ShownNotice[]; dismiss(id: number): void }) {
  const info = props.notices.filter((n) => !n.error);
  const errors = props.notices.filter((n) => n.error);
  return (
    <div class="notices">
      <div role="status" aria-live="polite">
        {info.map((n) => <p key={n.id} class="notice">{n.text}</p>)}
      </div>
      <div role="alert">
        {errors.map((n) => (
          <p key={n.id} class="notice error">
            <span>{n.text}</span>
            <button type="button" class="icon" aria-label="Dismiss" onClick={() => props.dismiss(n.id)}>×</button>
          </p>
        ))}
      </div>
    </div>
  );
}
