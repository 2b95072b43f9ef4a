/**
 * "@ada also check sub.sh": free text handed to an agent, as an action of
 * the person under their delegation to the bridge. An agent at work on a
 * task gets it as the person's comment on that task, which its loop reads
 * into its next turn (peer/agents/loop/new-comments.ts); an idle one gets a
 * new task carrying its labels (and the repository label of the last task
 * it held, so it works where it worked), asked for in the person's words. Every node
 * counts either for the person, not the bridge (ucan/principal.ts).
 */
import type { BridgeContext, BridgeSpace } from "#protocol/bridge";
import type { Member } from "#protocol/space";
import { newTaskId } from "#protocol/space";
import { Commands } from "#protocol/ucan";
import { compareHlc } from "#protocol/tasks";
import { refusal } from "./refusal.ts";

/** The agents named `name` in `spaces`, each with its space. */
export function agentsNamed(spaces: BridgeSpace[], name: string): Array<{ space: BridgeSpace; agent: Member }> {
  return spaces.flatMap((space) =>
    space.members().filter((m) => m.kind === "agent" && (m.name === name || m.name === `agent ${name}`))
      .map((agent) => ({ space, agent }))
  );
}

/** The label naming a task's repository (as the agent loop reads it: peer/agents/loop/pick-task.ts). */
const REPO_LABEL = "repo:";

/** A title from the person's words: their first line, at most 200 characters. */
const titleOf = (text: string) => {
  const line = text.split("\n")[0].trim();
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
};

/** Hand `text` from `person` to agent `name`; resolves with the answer. `message`: the DM's id (one task per DM). */
export async function tellAgent(
  context: BridgeContext,
  spaces: BridgeSpace[],
  person: string,
  message: string,
  name: string,
  text: string,
): Promise<string> {
  const hits = agentsNamed(spaces, name);
  if (hits.length !== 1) {
    return hits.length === 0
      ? `No agent named ${name} in your spaces.`
      : `Agents named ${name} are in several of your spaces; write to it on your peer.`;
  }
  const [{ space, agent }] = hits;
  const working = space.tasks({ status: ["claimed", "running"] }).find((t) => t.lease?.holder === agent.did);
  if (working) {
    if (!space.holds(Commands.taskComment, { via: person })) {
      return refusal(context, space, Commands.taskComment, "comment on tasks");
    }
    await space.act("comment", { task: working.id, body: text }, { via: person });
    return `Told ${name} on task ${working.id.slice(0, 6)} (${working.title}); it reads it before its next step.`;
  }
  const own = space.agentLabels(agent.did);
  if (own.length === 0) return `Agent ${name} may claim no task now (no live delegation with labels).`;
  const last = space.tasks().filter((t) => t.assignee === agent.did)
    .sort((a, b) => compareHlc(b.updatedAt, a.updatedAt))[0];
  const repo = last?.labels.find((l) => l.startsWith(REPO_LABEL));
  const labels = repo === undefined || own.includes(repo) ? own : [...own, repo];
  if (!space.holds(Commands.taskCreate, { via: person })) {
    return refusal(context, space, Commands.taskCreate, "create tasks");
  }
  const task = await space.act("create", {
    task: newTaskId(),
    title: titleOf(text),
    body: `${text}\n\n(Asked of agent ${name} by ${person} by Nostr DM.)`,
    labels,
    idempotencyKey: `nostr-dm-${message}`,
  }, { via: person });
  return `${name} is not working on a task: I filed task ${task.id.slice(0, 6)} in ${space.name} with its labels ` +
    `(${labels.join(", ")}): ${task.title}`;
}
