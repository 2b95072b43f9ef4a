/**
 * Stop, Re-run and Editor for one run, in the Runs view and on the task
 * page. Stop is the signed cancel the node running it obeys; Re-run is a new
 * signed create with the same spec and requirements; Editor opens, in a new
 * tab on the editor's own origin, the code-server a running run asked for. Each is offered only when
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
import { editorUrl, mayOpenEditor } from "../../model/editor.ts";
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
  const editorWhy = mayOpenEditor(space, task, bn.did)
    ? undefined
    : "only the run's creator and holder, and the space's reviewers (/weft/patch/review), may look";
  const openEditor = () => {
    // Opened now, while the click still counts as the user's, then sent on; cut from this page first, so the
    // editor's pages cannot navigate the dashboard through window.opener.
    const tab = globalThis.open("about:blank", "_blank");
    if (tab) tab.opener = null;
    void run(async () => {
      try {
        const url = await editorUrl(space, { did: bn.did, signer: bn.node.signer }, location.origin, task);
        if (tab) tab.location.href = url;
        else location.assign(url);
      } catch (e) {
        tab?.close();
        throw e;
      }
    }, `Opened the editor of ${id}`);
  };
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
      {task.run?.editor && props.state === "running" && (
        <button
          type="button"
          data-run-action="editor"
          disabled={busy || editorWhy !== undefined}
          title={editorWhy ? `Not available: ${editorWhy}` : "Open the run's editor (code-server) in a new tab"}
          onClick={openEditor}
        >
          Editor
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
