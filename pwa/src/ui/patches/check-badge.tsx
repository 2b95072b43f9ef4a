/** A patch's checks in one badge: passing, failing or missing per the merge policy (or not judged yet). */
import type { CheckStatus } from "#protocol/patch";

const WORD: Record<CheckStatus, string> = { passed: "passing", failed: "failing", missing: "missing" };
const CLASS: Record<CheckStatus, string> = { passed: "s-done", failed: "s-failed", missing: "s-open" };

export function CheckBadge(props: { status?: CheckStatus }) {
  if (!props.status) return <span class="status" data-checks="checking">checking…</span>;
  return <span class={`status ${CLASS[props.status]}`} data-checks={props.status}>{WORD[props.status]}</span>;
}

export function checkWord(status: CheckStatus): string {
  return WORD[status];
}
