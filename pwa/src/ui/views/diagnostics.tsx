/**
 * What this node refused in the space, and why: operations that failed the
 * verifier (bad signature, missing or revoked delegation), conflicts the
 * reducer settled, and sync or gossip messages from non-members. Nothing
 * here was applied; it is listed so it is never silently lost.
 */
import type { Space } from "#protocol/space";
import { useEvents } from "../../model/hooks.ts";
import { resolvedLater } from "../../model/op-details.ts";
import { useApp } from "../context.ts";
import { dateTime, namesOf, who } from "../format.ts";

export function Diagnostics(props: { space: Space }) {
  const { bn } = useApp();
  useEvents((fire) => bn.node.diagnostics.onRefusal(fire), [bn]);
  const refusals = bn.node.diagnostics.refusals({ space: props.space.id }).slice().reverse();
  const names = namesOf(props.space);
  const counters = Object.entries(bn.node.diagnostics.counters());
  return (
    <section aria-labelledby="diag-title" class="stack">
      <h1 id="diag-title">Diagnostics</h1>
      <h2>Refused in this space</h2>
      {refusals.length === 0 ? <p class="empty">Nothing refused since this tab opened.</p> : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Kind</th>
                <th scope="col">From</th>
                <th scope="col">What</th>
                <th scope="col">Why</th>
              </tr>
            </thead>
            <tbody>
              {refusals.map((r, i) => (
                <tr key={`${r.at}-${i}`} data-refusal={r.code}>
                  <td>{dateTime(r.at)}</td>
                  <td>{r.kind}</td>
                  <td>{r.from ? <span title={r.from}>{who(r.from, names, bn.did)}</span> : "—"}</td>
                  <td>
                    <code>{r.what}</code>
                  </td>
                  <td>
                    {r.reason} <code>{r.code}</code>
                    {resolvedLater(props.space, r) && (
                      <span class="hint">— resolved: it applied once the operations before it arrived</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h2>Counters (this node)</h2>
      {counters.length === 0 ? <p class="empty">No counters yet.</p> : (
        <dl class="facts">
          {counters.map(([k, v]) => [<dt key={`${k}t`}>{k}</dt>, <dd key={`${k}d`}>{v}</dd>])}
        </dl>
      )}
    </section>
  );
}
