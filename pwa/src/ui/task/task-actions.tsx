/**
 * What can be done to a task now: the actions its state allows, each
 * offered only if this device's delegation covers its command (otherwise
 * shown disabled, saying which command is missing). Every click is a
 * signed operation; a refusal by the verifier or the reducer is announced
 * with its reason. Once this device holds the lease, where Claim was says
 * so (it is not a button), and Renew lease comes last: clicks that kept
 * coming at Claim's place never renew by accident.
 */
import type { Space } from "#protocol/space";
import { type TaskView, TERMINAL } from "#protocol/tasks";
import { Commands } from "#protocol/ucan";
import { actions } from "../../model/actions.ts";
import { can } from "../../model/can.ts";
import { missing } from "../why-not.ts";
import { shortId } from "../../model/task-ref.ts";
import { useAction, useApp } from "../context.ts";

interface ActionDef {
  key: keyof typeof actions;
  label: string;
  command: string;
  /** Why it cannot be taken now, or undefined if it can (capabilities aside). */
  blocked?: string;
  done: string;
}

export function TaskActions(props: { space: Space; task: TaskView }) {
  const { bn } = useApp();
  const { busy, run } = useAction();
  const { space, task } = props;
  const id = shortId(task.id);
  const status = task.effectiveStatus;
  const mine = task.lease?.holder === bn.did && (status === "claimed" || status === "running");
  const terminal = TERMINAL.has(status);
  const list: ActionDef[] = [];
  if (status === "open") {
    list.push({
      key: "claim",
      label: "Claim",
      command: Commands.taskClaim,
      blocked: task.runnable ? undefined : "its dependencies are not done",
      done: `Claimed ${id}`,
    });
  }
  if (mine) {
    if (status === "claimed") {
      list.push({ key: "start", label: "Start", command: Commands.taskStart, done: `${id} is running` });
    }
    list.push({ key: "release", label: "Release", command: Commands.taskRelease, done: `Released ${id}` });
    list.push({ key: "renew", label: "Renew lease", command: Commands.taskRenew, done: `Renewed ${id}` });
  }
  if (status === "review") {
    list.push({ key: "approve", label: "Approve", command: Commands.taskReview, done: `Approved ${id}` });
    list.push({ key: "reject", label: "Reject", command: Commands.taskReview, done: `Rejected ${id}` });
  }
  if (!terminal) {
    list.push({ key: "done", label: "Close as done", command: Commands.taskClose, done: `Closed ${id}` });
    list.push({ key: "failed", label: "Close as failed", command: Commands.taskClose, done: `Closed ${id} as failed` });
    list.push({ key: "cancel", label: "Cancel task", command: Commands.taskCancel, done: `Cancelled ${id}` });
  }
  if (list.length === 0) return null;
  return (
    <div class="actions" role="group" aria-label="Task actions">
      {mine && <span class="action held" data-held>You hold the lease</span>}
      {list.map((a) => {
        const allowed = can(space, bn.did, a.command);
        const why = !allowed ? missing(space, bn.did, a.command) : a.blocked;
        return (
          <span key={a.key} class="action">
            <button
              type="button"
              data-action={a.key}
              disabled={busy || why !== undefined}
              aria-describedby={why ? `why-${a.key}` : undefined}
              onClick={() =>
                void run(() => (actions[a.key] as (s: Space, t: TaskView) => Promise<unknown>)(space, task), a.done)}
            >
              {a.label}
            </button>
            {why && <span id={`why-${a.key}`} class="why">Not available: {why}.</span>}
          </span>
        );
      })}
    </div>
  );
}
