/**
 * Agents: the requests waiting for a person's approval first, then every
 * agent the space has delegated to (ui/agents/agent-card.tsx). Everything
 * but the running loop's transcript is computed here from the space's
 * replicated, signed state (model/agents.ts), so it reads offline and the
 * same as on every node; the actions are signed with this browser's key,
 * and so is the request that makes an agent on the serving peer (the form
 * at the end).
 */
import { useMemo } from "preact/hooks";
import type { Space } from "#protocol/space";
import { agentsOf, pendingRequests } from "../../model/agents.ts";
import { useTick } from "../../model/hooks.ts";
import { useSpace } from "../context.ts";
import { namesOf } from "../format.ts";
import { AgentCard } from "./agent-card.tsx";
import { ApprovalCard } from "./approval-card.tsx";
import { AddAgentForm } from "./add-agent-form.tsx";

export function AgentsView(props: { space: Space }) {
  const version = useSpace(props.space);
  useTick(5000); // expiries and leases lapse without an event
  const names = useMemo(() => namesOf(props.space), [props.space, version]);
  const agents = agentsOf(props.space);
  const waiting = pendingRequests(props.space);
  return (
    <section aria-labelledby="agents-title" class="stack">
      <div class="row spread">
        <h1 id="agents-title">Agents</h1>
        <p class="count">{agents.length} {agents.length === 1 ? "agent" : "agents"}</p>
      </div>
      <section aria-labelledby="approvals-title" class="stack">
        <h2 id="approvals-title">Waiting for approval</h2>
        {waiting.length === 0
          ? <p class="empty" data-no-requests>No agent is waiting for an approval.</p>
          : waiting.map((r) => <ApprovalCard key={r.id} space={props.space} request={r} names={names} />)}
      </section>
      {agents.length === 0
        ? (
          <p class="empty">
            No agent in this space yet. Make one below, or on a peer:{" "}
            <code>weft agent add NAME --labels … --budget 5usd</code>.
          </p>
        )
        : agents.map((a) => <AgentCard key={a.did} space={props.space} agent={a} names={names} />)}
      <AddAgentForm space={props.space} />
    </section>
  );
}
