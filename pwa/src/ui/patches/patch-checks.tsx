/**
 * A patch's checks as the merge gate judges them in this browser: each
 * required check passed, failed or missing with the reason, the run judged
 * (linked to its page and to the Runs view), its provenance — the run's
 * manifest was verified here: the runner's signature, its statement and
 * that it held the run capability in the space — and its log.
 */
import type { CheckVerdict, Readiness } from "#protocol/patch";
import type { Space } from "#protocol/space";
import { spaceHref, taskHref } from "../../model/route.ts";
import { RunLogView } from "../task/task-runs.tsx";
import { CheckBadge } from "./check-badge.tsx";

export function PatchChecks(props: { space: Space; checks?: readonly CheckVerdict[]; readiness?: Readiness }) {
  const checks = props.checks ?? props.readiness?.checks;
  if (!checks) {
    return <p class="hint" data-checks="checking">Judging the checks (fetching and verifying run manifests)…</p>;
  }
  if (checks.length === 0) return <p class="empty">The merge policy requires no check.</p>;
  return (
    <ul class="plain stack">
      {checks.map((c) => <CheckItem key={c.name} space={props.space} check={c} />)}
    </ul>
  );
}

function CheckItem(props: { space: Space; check: CheckVerdict }) {
  const { space, check } = props;
  const task = check.run && space.task(check.run.task);
  return (
    <li data-check={check.name} data-check-status={check.status} class="stack">
      <div class="row wrap">
        <strong>{check.name}</strong> <CheckBadge status={check.status} />
        <span>{check.reason}</span>
      </div>
      {check.run && (
        <div class="stack">
          <p>
            Run{" "}
            <a href={taskHref(space.id, check.run.task)} data-check-run={check.run.task}>
              {task?.title ?? check.run.task}
            </a>{" "}
            ({check.run.status}) · <a href={spaceHref(space.id, "runs")}>Runs view</a>
          </p>
          <p>
            <span class="badge open" data-provenance="verified">
              provenance verified: manifest <code>{check.run.manifest.slice(-12)}</code> signed by{" "}
              <code>{check.run.runner}</code>, which held the run capability
            </span>
          </p>
          {task && (
            <details>
              <summary>Log</summary>
              <RunLogView space={space} task={task} />
            </details>
          )}
        </div>
      )}
    </li>
  );
}
