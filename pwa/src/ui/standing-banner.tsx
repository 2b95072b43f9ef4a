/**
 * Said plainly at the top of a space this node was removed from (or whose
 * delegation lapsed): who removed it and when, that it no longer syncs,
 * and that the actions it can no longer take are switched off.
 */
import type { Space } from "#protocol/space";
import { removedReason } from "./why-not.ts";
import { useApp, useSpace } from "./context.ts";

export function StandingBanner(props: { space: Space }) {
  const { bn } = useApp();
  useSpace(props.space);
  const reason = removedReason(props.space, bn.did);
  if (!reason) return null;
  return (
    <p class="removed" role="alert" data-standing="removed">
      <strong>{reason}.</strong>{" "}
      This browser no longer syncs it; what is here stays readable, and the actions you can no longer take are switched
      off.
    </p>
  );
}
