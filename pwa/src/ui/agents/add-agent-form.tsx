/**
 * Making an agent from the dashboard, as `weft agent add` does on a peer:
 * its name, the labels of the tasks it may claim, the runner kinds it may
 * run its tests on, its budget, when its delegations lapse, and whether the
 * peer runs its loop by itself. The agent lives on the peer that served
 * this page (its key is a file there); the request is signed with this
 * browser's key, and the peer bounds the agent's delegations by this
 * browser's own.
 */
import { useState } from "preact/hooks";
import type { Space } from "#protocol/space";
import { addAgent, addBlocker, agentRequest, RUNNER_KINDS } from "../../model/agents.ts";
import { useAction, useApp } from "../context.ts";
import { expiration, ExpirySelect } from "../expiry.tsx";

export function AddAgentForm(props: { space: Space }) {
  const { bn } = useApp();
  const { busy, run } = useAction();
  const [name, setName] = useState("");
  const [labels, setLabels] = useState("");
  const [runners, setRunners] = useState<string[]>(["container"]);
  const [budget, setBudget] = useState("5");
  const [expiry, setExpiry] = useState(3);
  const [runHere, setRunHere] = useState(false);
  const blocked = addBlocker(props.space, bn.did);
  if (blocked) return <p class="why-not" data-why="add-agent">Making an agent here is off: {blocked}.</p>;
  const me = { did: bn.did, signer: bn.node.signer };
  const toggle = (kind: string, on: boolean) =>
    setRunners((rs) => on ? [...rs.filter((r) => r !== kind), kind] : rs.filter((r) => r !== kind));
  return (
    <form
      class="stack"
      aria-labelledby="add-agent-title"
      data-add-agent
      onSubmit={(e) => {
        e.preventDefault();
        void run(async () => {
          const request = agentRequest({
            name,
            labels,
            runners,
            budget,
            expiration: expiration(expiry),
            run: runHere,
          });
          await addAgent(props.space, me, location.origin, request);
          setName("");
        }, `Made agent ${name.trim()} on ${location.host}`);
      }}
    >
      <h2 id="add-agent-title">Make an agent</h2>
      <p class="hint">
        It lives on the peer that served this page ({location.host}), with a key of its own there; it proposes patches
        and never merges.
      </p>
      <div class="row wrap">
        <label>
          <span>Name</span>{" "}
          <input
            name="agent-name"
            required
            maxLength={32}
            pattern="[a-z0-9][a-z0-9\-]{0,31}"
            placeholder="fixer"
            value={name}
            onInput={(e) => setName(e.currentTarget.value)}
          />
        </label>
        <label>
          <span>Claims tasks labelled</span>{" "}
          <input
            name="agent-labels"
            required
            placeholder="bug, docs"
            value={labels}
            onInput={(e) => setLabels(e.currentTarget.value)}
          />
        </label>
        <label>
          <span>Budget (USD)</span>{" "}
          <input
            name="agent-budget"
            required
            inputMode="decimal"
            value={budget}
            onInput={(e) => setBudget(e.currentTarget.value)}
          />
        </label>
        <label>
          <span>Expires</span> <ExpirySelect id="agent-expiry" value={expiry} onChange={setExpiry} />
        </label>
      </div>
      <fieldset class="row wrap">
        <legend>Runs its tests on</legend>
        {RUNNER_KINDS.map((kind) => (
          <label key={kind}>
            <input
              type="checkbox"
              name={`agent-runner-${kind}`}
              checked={runners.includes(kind)}
              onChange={(e) => toggle(kind, e.currentTarget.checked)}
            />{" "}
            {kind}
          </label>
        ))}
      </fieldset>
      <label>
        <input
          type="checkbox"
          name="agent-run"
          checked={runHere}
          onChange={(e) => setRunHere(e.currentTarget.checked)}
        />{" "}
        Run it here: {location.host} picks tasks for it by itself
      </label>
      <div>
        <button type="submit" disabled={busy}>Make agent</button>
      </div>
    </form>
  );
}
