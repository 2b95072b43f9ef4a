/** The lease on a claimed task: who holds it, its fencing token, and the time left before it lapses. */
import type { TaskView } from "#protocol/tasks";
import { useTick } from "../../model/hooks.ts";
import { dateTime, until, who } from "../format.ts";

export function TaskLease(props: { task: TaskView; names: Map<string, string>; me: string }) {
  useTick(1000);
  const lease = props.task.lease;
  if (!lease) return <p class="empty">Not claimed.</p>;
  const lapsed = lease.expires < Date.now();
  return (
    <dl class="facts">
      <dt>Held by</dt>
      <dd>{who(lease.holder, props.names, props.me)}</dd>
      <dt>Fencing token</dt>
      <dd>{lease.fence}</dd>
      <dt>Claimed</dt>
      <dd>{dateTime(lease.claimedAt[0])}</dd>
      <dt>Lease</dt>
      <dd class={lapsed ? "warn" : ""}>
        {lapsed ? `lapsed at ${dateTime(lease.expires)} — anyone may claim it` : `${until(lease.expires)} left`}
      </dd>
    </dl>
  );
}
