/**
 * Agents, devices and people in the space, as its delegations define them,
 * with what this node can tell about each: online (this device, a live
 * sync session, an unexpired capacity advert), version, last seen, and the
 * commands delegated to them.
 */
import { useMemo, useState } from "preact/hooks";
import type { Space } from "#protocol/space";
import { useEvents, useTick } from "../../model/hooks.ts";
import { lastOperations, presence } from "../../model/presence.ts";
import { useApp, useSpace } from "../context.ts";
import { ago, dateTime, namesOf, shortDid, who } from "../format.ts";

const KINDS = [["", "Everyone"], ["member", "People"], ["device", "Devices"], ["agent", "Agents"]] as const;

export function People(props: { space: Space }) {
  const { bn } = useApp();
  const version = useSpace(props.space);
  useTick(5000);
  useEvents((fire) => bn.subscribe(fire), [bn]);
  useEvents((fire) => bn.capacity.subscribe(fire), [bn]);
  const [kind, setKind] = useState("");
  const lastOp = useMemo(() => lastOperations(props.space), [props.space, version]);
  const now = Date.now();
  const list = presence(props.space, {
    me: bn.did,
    connected: bn.connected,
    sessions: bn.sessionSeen,
    adverts: bn.capacity.adverts(props.space.id),
    now,
  }, lastOp).filter((p) => !kind || p.kind === kind);
  const names = useMemo(() => namesOf(props.space), [props.space, version]);
  return (
    <section aria-labelledby="people-title" class="stack">
      <h1 id="people-title">Agents, devices and people</h1>
      <div class="row wrap" role="group" aria-label="Show">
        {KINDS.map(([k, label]) => (
          <button key={k} type="button" aria-pressed={kind === k} onClick={() => setKind(k)}>{label}</button>
        ))}
      </div>
      {!bn.capacity.hasGossip(props.space.id) && (
        <p class="hint">
          This browser does not receive this space's gossip, so nodes it has no session with show as offline and their
          versions are unknown.
        </p>
      )}
      {list.length === 0 ? <p class="empty">No one of this kind in the space.</p> : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Kind</th>
                <th scope="col">State</th>
                <th scope="col" class="wide">Version</th>
                <th scope="col">Last seen</th>
                <th scope="col" class="wide">Delegated by</th>
                <th scope="col">Commands</th>
              </tr>
            </thead>
            <tbody>
              {list.map((p) => (
                <tr key={p.did} data-member={p.did}>
                  <td>
                    <span title={p.did}>{p.name ?? shortDid(p.did)}</span>
                    {p.did === bn.did && <span class="tag">this device</span>}
                  </td>
                  <td>{p.kind}</td>
                  <td>
                    <span class={`badge ${p.online ? "open" : "closed"}`}>
                      {p.online ? `online (${p.via})` : "not seen online"}
                    </span>
                  </td>
                  <td class="wide">{p.version ?? "—"}</td>
                  <td>{p.lastSeen ? <span title={dateTime(p.lastSeen)}>{ago(p.lastSeen, now)}</span> : "never"}</td>
                  <td class="wide">{who(p.by, names, bn.did)}</td>
                  <td>
                    {p.commands.map((c) => <code key={c} class="cmd">{c}</code>)}
                    {p.expires !== null && <span class="hint">until {dateTime(p.expires * 1000)}</span>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
