/**
 * Where a run's log is read from: the scheduler's own runs on this node,
 * or, for a run elsewhere, the node running it over the sync session this
 * node has with it — for a run a principal hosted on a node holds (a
 * bridge's cluster), the node its capacity advert names as its host. Nodes
 * serve their runs' logs to members who ask.
 */
import type { WeftNode } from "../node/node.ts";
import type { LogLine } from "../runner/runner.ts";
import { NotFound } from "../space/space.ts";
import type { Task } from "../tasks/state.ts";
import type { Scheduler } from "./scheduler.ts";

/** Answer other nodes' requests for the logs of the scheduler's runs on this one; returns the withdrawal. */
export function serveRunLogs(node: WeftNode, scheduler: Scheduler): () => void {
  return node.serveLogs((space, task, follow, signal) => {
    const run = scheduler.run(space, task);
    return run?.log.read(follow, signal);
  });
}

/** A run's log, from wherever it runs or ran. Throws NotFound if no reachable node has it. */
export function runLog(
  node: WeftNode,
  scheduler: Scheduler | undefined,
  space: string,
  task: Task,
  follow: boolean,
  signal?: AbortSignal,
): AsyncIterable<LogLine> {
  const local = scheduler?.run(space, task.id);
  if (local) return local.log.read(follow, signal);
  // Another scheduler on this node (a bridge's, running jobs as its own DID).
  const here = node.localLog(space, task.id, follow, signal ?? new AbortController().signal);
  if (here) return here;
  const where = task.lease?.holder ?? task.results.at(-1)?.by;
  if (!where) throw new NotFound(`${task.id} has not been placed on a node yet`);
  const host = node.gossip(space)?.adverts().find((a) => a.node === where)?.host;
  const session = node.sessionTo(where) ?? (host ? node.sessionTo(host) : undefined);
  if (!session) {
    throw new NotFound(
      `${task.id} runs on ${where}${host ? `, hosted on ${host},` : ""} which is not connected to this node`,
    );
  }
  return session.runLog(space, task.id, follow, signal);
}
