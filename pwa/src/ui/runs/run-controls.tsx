/**
 * Stop and Re-run for one run, in the Runs view and on the task page. Stop
 * is the signed cancel the node running it obeys; Re-run is a new signed
 * create with the same spec and requirements. Each is offered only when
 * this device's delegation covers its command (else shown disabled, saying
 * which command is missing), and repeated clicks while one is pending do
 * nothing: a re-run carries one idempotency key until it lands.
 */
import { useRef } from "preact/hooks";
import type { Space } from "#protocol/space";
import type { Task } from "#protocol/tasks";
import { Commands } from "#protocol/ucan";
import type { PodState } from "#protocol/scheduler";
import { can } from "../../model/can.ts";
import { rerun, stopRun } from "../../model/runs.ts";
import { navigate, taskHref } from "../../model/route.ts";
import { shortId } from "../../model/task-ref.ts";
import { useAction, useApp } from "../context.ts";
import { missing } from "../why-not.ts";

const STOPPABLE: ReadonlySet<PodState> = new Set(["queued", "claimed", "running"]);

export function RunControls(props: { space: Space; task: Task; state: PodState; open?: boolean }) {
  const { bn } = useApp();
  const { busy, run } = useAction();
  const key = useRef(crypto.randomUUID());
  const { space, task } = props;
  const id = shortId(task.id);
  const stopWhy = can(space, bn.did, Commands.taskCancel) ? undefined : missing(space, bn.did, Commands.taskCancel);
  const rerunWhy = can(space, bn.did, Commands.taskCreate) ? undefined : missing(space, bn.did, Commands.taskCreate);
  return (
    <span class="row run-controls" role="group" aria-label={`Run ${id}`}>
      {STOPPABLE.has(props.state) && (
        <button
          type="button"
          data-run-action="stop"
          disabled={busy || stopWhy !== undefined}
          title={stopWhy ? `Not available: ${stopWhy}` : "Cancel the run; the node running it stops it at once"}
          onClick={() => void run(() => stopRun(space, task), `Stopped ${id}`)}
        >
          Stop
        </button>
      )}
      <button
        type="button"
        data-run-action="rerun"
        disabled={busy || rerunWhy !== undefined}
        title={rerunWhy ? `Not available: ${rerunWhy}` : "Run the same spec again, as a new run"}
        onClick={() =>
          void run(async () => {
            const next = await rerun(space, task, key.current);
            key.current = crypto.randomUUID();
            if (props.open) navigate(taskHref(space.id, next.id));
          }, `Re-running ${id}`)}
      >
        Re-run
      </button>
    </span>
  );
}
