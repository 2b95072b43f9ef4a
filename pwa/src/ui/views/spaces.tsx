/**
 * The spaces this browser is in (and whether it was removed from one), joins
 * still waiting for a member, and the forms to join or create one.
 */
import { Commands } from "#protocol/ucan";
import { can } from "../../model/can.ts";
import { spaceHref } from "../../model/route.ts";
import { ago, shortDid } from "../format.ts";
import { useApp } from "../context.ts";
import { JoinOrCreate } from "../space-forms.tsx";
import { removedReason } from "../why-not.ts";
import { Rename } from "./rename.tsx";

export function Spaces() {
  const { bn } = useApp();
  const spaces = bn.node.spaces();
  return (
    <section aria-labelledby="spaces-title" class="stack">
      <h1 id="spaces-title">Spaces</h1>
      {spaces.length === 0 ? <p class="empty">This browser is in no space yet.</p> : (
        <div class="table-wrap">
          <table>
            <caption class="sr-only">Spaces this browser is in</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Root DID</th>
                <th scope="col">Tasks</th>
                <th scope="col">Members</th>
                <th scope="col">Documents</th>
                <th scope="col">Rename</th>
              </tr>
            </thead>
            <tbody>
              {spaces.map((s) => (
                <tr key={s.id} aria-current={s.id === bn.currentSpace ? "true" : undefined}>
                  <td>
                    <a href={spaceHref(s.id, "tasks")}>{s.name || "(unnamed)"}</a>
                    {removedReason(s, bn.did) && (
                      <div class="hint" data-standing="removed">{removedReason(s, bn.did)}.</div>
                    )}
                  </td>
                  <td>
                    <code title={s.id}>{shortDid(s.id)}</code>
                  </td>
                  <td>{s.log.reducer.tasks.size}</td>
                  <td>{s.members().length}</td>
                  <td>{s.documentIds.length}</td>
                  <td>{can(s, bn.did, Commands.spaceAdmin) ? <Rename space={s} /> : "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {bn.pendingJoins.length > 0 && (
        <div role="status">
          <h2>Joining</h2>
          <ul>
            {bn.pendingJoins.map((j) => (
              <li key={j.space}>
                <code title={j.space}>{shortDid(j.space)}</code> — accepted{" "}
                {ago(j.since)}, waiting for a member to serve it (connect to a member's peer or relay).
              </li>
            ))}
          </ul>
        </div>
      )}
      <JoinOrCreate />
    </section>
  );
}
