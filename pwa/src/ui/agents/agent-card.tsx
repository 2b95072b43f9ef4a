/**
 * One agent: its state, what it holds in plain words (the labels it may
 * claim, its runner kinds, the refs it may push, its budget, its expiry),
 * its budget spent, reserved and left, spend per task, the task it holds
 * now, the live transcript of its loop and the log of its newest test run,
 * and Pause, Resume and Revoke — each off with the reason for someone who
 * lacks the right.
 */
import { useState } from "preact/hooks";
import type { Space } from "#protocol/space";
import { Commands } from "#protocol/ucan";
import {
  type AgentSummary,
  budgetWords,
  pauseBlocker,
  revokeAgent,
  revokeBlocker,
  setPaused,
  usd,
} from "../../model/agents.ts";
import { taskHref } from "../../model/route.ts";
import { useAction, useApp } from "../context.ts";
import { dateTime, shortDid, who } from "../format.ts";
import { RunLogView } from "../task/task-runs.tsx";
import { type LoopState, useLoop } from "./use-loop.ts";

const STATE_CLASS = { active: "s-running", paused: "s-review", revoked: "s-failed", expired: "s-cancelled" } as const;

export function AgentCard(props: { space: Space; agent: AgentSummary; names: Map<string, string> }) {
  const { bn } = useApp();
  const { space, agent: a, names } = props;
  const h = a.holds;
  const id = `agent-${a.did.slice(-8)}`;
  return (
    <article class="card stack agent" aria-labelledby={id} data-agent={a.name} data-agent-state={a.state}>
      <div class="row spread wrap">
        <h2 id={id}>
          {a.name} <span class={`status ${STATE_CLASS[a.state]}`} data-state>{a.state}</span>
        </h2>
        <code title={a.did}>{shortDid(a.did)}</code>
      </div>
      {a.pause && (
        <p class="warn" data-paused>
          Paused by {who(a.pause.by, names, bn.did)} on {dateTime(a.pause.at[0])}
          {a.pause.reason ? `: ${a.pause.reason}` : ""}. Every node refuses its operations until it is resumed.
        </p>
      )}
      <h3>What it holds</h3>
      <dl class="facts" data-holds>
        <dt>Claims</dt>
        <dd data-labels>
          tasks labelled {h.labels.length > 0 ? h.labels.map((l) => <span key={l} class="tag">{l}</span>) : "(none)"}
        </dd>
        <dt>Runs</dt>
        <dd data-runners>{h.runners.length > 0 ? h.runners.join(", ") : "no jobs"}</dd>
        <dt>Pushes</dt>
        <dd data-push>{h.pushRefs.length > 0 ? h.pushRefs.map((r) => <code key={r}>{r}</code>) : "nothing"}</dd>
        <dt>Patches</dt>
        <dd>
          {h.commands.includes(Commands.patchPropose) ? "proposes" : "cannot propose"};{" "}
          {h.commands.some((c) => c.startsWith(Commands.patchMerge)) ? "may merge" : "never merges"}
        </dd>
        <dt>Budget</dt>
        <dd data-budget>{budgetWords(h.budget)}</dd>
        <dt>Made by</dt>
        <dd>{who(a.by, names, bn.did)}</dd>
        <dt>Expires</dt>
        <dd>{h.expires === null ? "never" : dateTime(h.expires * 1000)}</dd>
      </dl>
      <Spending agent={a} />
      <h3>Now</h3>
      <p data-current>
        {a.current
          ? (
            <>
              Working on <a href={taskHref(space.id, a.current.id)}>{a.current.title}</a>
            </>
          )
          : "Holds no task."}
      </p>
      <Controls space={space} agent={a} />
      <LoopPanel space={space} agent={a} />
    </article>
  );
}

function Spending(props: { agent: AgentSummary }) {
  const { spend, left, holds, tasks } = props.agent;
  const cap = holds.budget.usd;
  return (
    <>
      <h3>Spend</h3>
      <dl class="facts" data-spend>
        <dt>Spent</dt>
        <dd data-spent>
          {usd(spend.spent.usd)}
          {cap !== undefined && ` of ${usd(cap)}`}, {spend.spent.tokens.toLocaleString("en")} tokens
        </dd>
        <dt>Reserved</dt>
        <dd>{usd(spend.reserved.usd)} for calls in flight</dd>
        <dt>Left</dt>
        <dd data-left>
          {[
            left.usd !== undefined ? usd(left.usd) : "",
            left.tokens !== undefined ? `${left.tokens.toLocaleString("en")} tokens` : "",
          ].filter(Boolean).join(" and ") || "unbounded here"}
        </dd>
        <dt>Calls</dt>
        <dd>
          {spend.reservations} made{spend.refused > 0 ? `, ${spend.refused} refused` : ""}
        </dd>
      </dl>
      {cap !== undefined && cap > 0 && (
        <meter min={0} max={cap} value={spend.spent.usd + spend.reserved.usd} aria-label="Budget drawn" />
      )}
      {tasks.length > 0 && (
        <div class="table-wrap">
          <table data-task-spend>
            <caption class="sr-only">This agent's spend per task</caption>
            <thead>
              <tr>
                <th scope="col">Task</th>
                <th scope="col">Spent</th>
                <th scope="col">Tokens</th>
                <th scope="col">Calls</th>
              </tr>
            </thead>
            <tbody>
              {tasks.map(({ task, spend: s }) => (
                <tr key={task.id} data-task={task.id}>
                  <td>{task.title}</td>
                  <td data-task-spent>{usd(s.spent.usd)}</td>
                  <td>{s.spent.tokens.toLocaleString("en")}</td>
                  <td>{s.reservations}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

function Controls(props: { space: Space; agent: AgentSummary }) {
  const { bn } = useApp();
  const { busy, run } = useAction();
  const { space, agent: a } = props;
  const [reason, setReason] = useState("");
  const [confirming, setConfirming] = useState(false);
  const paused = a.state === "paused";
  const ended = a.state === "revoked" || a.state === "expired";
  const pauseWhy = pauseBlocker(space, bn.did, paused ? "resume" : "pause");
  const revokeWhy = revokeBlocker(space, bn.did, a);
  if (ended) return null;
  const me = { did: bn.did, signer: bn.node.signer };
  return (
    <div class="stack" data-controls>
      <div class="row wrap">
        {!paused && (
          <input
            aria-label="Why pause (optional)"
            placeholder="Why (optional)"
            maxLength={2000}
            value={reason}
            disabled={!!pauseWhy}
            onInput={(e) => setReason(e.currentTarget.value)}
          />
        )}
        <button
          type="button"
          data-pause
          disabled={busy || !!pauseWhy}
          onClick={() =>
            void run(
              () => setPaused(space, a.did, !paused, reason.trim()),
              paused ? `Resumed ${a.name}` : `Paused ${a.name}`,
            )}
        >
          {paused ? "Resume" : "Pause"}
        </button>
        {!confirming
          ? (
            <button
              type="button"
              class="danger"
              data-revoke
              disabled={busy || !!revokeWhy}
              onClick={() => setConfirming(true)}
            >
              Revoke…
            </button>
          )
          : (
            <>
              <span data-revoke-notice>
                Revoking ends{" "}
                {a.name}'s delegations for good, on every node: what it signed before stays, what it signs later is
                refused.
              </span>
              <button
                type="button"
                class="danger"
                data-confirm-revoke
                disabled={busy}
                onClick={() => void run(() => revokeAgent(space, me, a, location.origin), `Revoked ${a.name}`)}
              >
                Confirm revoke
              </button>
              <button type="button" onClick={() => setConfirming(false)}>Cancel</button>
            </>
          )}
      </div>
      {pauseWhy && <p class="why-not" data-why="pause">{paused ? "Resume" : "Pause"} is off: {pauseWhy}.</p>}
      {revokeWhy && a.state !== "revoked" && <p class="why-not" data-why="revoke">Revoke is off: {revokeWhy}.</p>}
    </div>
  );
}

const LOOP_SAID = (s: LoopState) =>
  s.state === "asking"
    ? "Asking the peer that runs it…"
    : s.state === "none"
    ? "Following: no pass of its loop has started on the peer that runs it since that peer started."
    : s.state === "unavailable"
    ? `Its loop is not visible here: ${s.why}.`
    : undefined;

function LoopPanel(props: { space: Space; agent: AgentSummary }) {
  const { space, agent: a } = props;
  const loop = useLoop(space, a.did, a.state !== "revoked");
  const said = LOOP_SAID(loop);
  const l = loop.state === "shown" ? loop.loop : undefined;
  const job = l?.job ?? a.run?.id;
  const jobTask = job ? space.task(job) : undefined;
  const logId = `log-${a.did.slice(-8)}`;
  return (
    <>
      <h3>Its loop</h3>
      {said && <p class="hint" data-loop-state={loop.state}>{said}</p>}
      {l && (
        <div class="stack" data-loop data-step={l.step}>
          <p>
            Step <strong data-loop-step>{l.step}</strong>, turn {l.turn}
            {l.task && (
              <>
                {" "}on <a href={taskHref(space.id, l.task)}>{space.task(l.task)?.title ?? l.task}</a>
              </>
            )}
            {l.outcome && (
              <span data-outcome={l.outcome.kind}>
                &nbsp;— ended: {l.outcome.kind}
                {l.outcome.reason ? ` (${l.outcome.reason})` : ""}
              </span>
            )}
          </p>
          <h4>Transcript</h4>
          {l.transcript.length > 0 && l.transcript[0].n > 0 && (
            <p class="hint" data-left>
              The {l.transcript[0].n} entries before these are not shown here
              {l.leftChars ? ` (${l.leftChars.toLocaleString("en")} characters)` : ""}; the whole transcript is stored
              with the patch the agent proposes.
            </p>
          )}
          {l.transcript.length === 0 ? <p class="empty">Nothing said yet.</p> : (
            <ol class="transcript" data-transcript>
              {l.transcript.map((e) => (
                <li key={e.n} class={`turn ${e.role}`} data-role={e.role}>
                  <span class="who">
                    {e.role === "assistant" ? "model" : e.role === "user" ? "loop" : "system"}
                    {e.usage && (
                      <span data-usage>
                        {` · turn ${e.turn}, ${e.usage.inputTokens + e.usage.outputTokens} tokens, ${
                          usd(e.usage.costMicroUsd)
                        }`}
                      </span>
                    )}
                  </span>
                  <pre>{e.content}</pre>
                  {e.cut !== undefined && (
                    <p class="hint" data-cut>
                      … {e.cut.toLocaleString("en")} more characters not shown here.
                    </p>
                  )}
                </li>
              ))}
            </ol>
          )}
        </div>
      )}
      {jobTask && (
        <>
          <h4 id={logId}>
            Job log: <a href={taskHref(space.id, jobTask.id)}>{jobTask.title}</a>
          </h4>
          <RunLogView space={space} task={jobTask} labelledBy={logId} />
        </>
      )}
    </>
  );
}
