/**
 * Members and capabilities: every delegation in the space (from, to,
 * command, policy, expiry, state and who revoked it), revocation for those
 * this node issued or sits above (after saying what it does to the
 * member's work), and forms to delegate an attenuated capability to a DID or to
 * make an invite link.
 */
import { useMemo, useState } from "preact/hooks";
import { revocationNotice, type Space } from "#protocol/space";
import { delegationRows } from "../../model/delegations.ts";
import { useAction, useApp, useSpace } from "../context.ts";
import { dateTime, namesOf, who } from "../format.ts";
import { DelegateForm } from "./delegate-form.tsx";
import { InviteLinkForm } from "./invite-link-form.tsx";

export function Capabilities(props: { space: Space }) {
  const { bn } = useApp();
  const version = useSpace(props.space);
  const rows = useMemo(() => delegationRows(props.space, bn.did), [props.space, version]);
  const names = useMemo(() => namesOf(props.space), [props.space, version]);
  return (
    <section aria-labelledby="caps-title" class="stack">
      <h1 id="caps-title">Members and capabilities</h1>
      <div class="table-wrap">
        <table class="caps">
          <caption class="sr-only">Delegations in this space</caption>
          <thead>
            <tr>
              <th scope="col">To</th>
              <th scope="col">Command</th>
              <th scope="col" class="wide">From</th>
              <th scope="col" class="wide">Policy</th>
              <th scope="col">Expires</th>
              <th scope="col">State</th>
              <th scope="col">
                <span class="sr-only">Revoke</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.cid} data-delegation={r.cid} data-audience={r.d.aud} data-command={r.d.cmd}>
                <td>
                  <span title={r.d.aud}>{who(r.d.aud, names, bn.did)}</span>
                  {typeof r.d.meta?.kind === "string" && <span class="tag">{r.d.meta.kind}</span>}
                </td>
                <td>
                  <code>{r.d.cmd}</code>
                </td>
                <td class="wide">
                  <span title={r.d.iss}>{who(r.d.iss, names, bn.did)}</span>
                </td>
                <td class="wide">
                  {r.d.pol.source.length === 0 ? "none" : <code>{JSON.stringify(r.d.pol.source)}</code>}
                </td>
                <td>{r.d.exp === null ? "never" : dateTime(r.d.exp * 1000)}</td>
                <td>
                  <span class={`badge ${r.state === "active" ? "open" : "closed"}`}>{r.state}</span>
                  {r.revokedBy && <span class="hint">by {who(r.revokedBy, names, bn.did)}</span>}
                </td>
                <td>{r.revocable && <Revoke space={props.space} cid={r.cid} to={who(r.d.aud, names, bn.did)} />}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div class="cards">
        <div class="card">
          <DelegateForm space={props.space} />
        </div>
        <div class="card">
          <InviteLinkForm space={props.space} />
        </div>
      </div>
    </section>
  );
}

/**
 * Revoking takes two presses, and the second comes after reading what it
 * does to the member's work; voiding what a stolen key signed since a
 * point in time is a separate, explicit choice.
 */
function Revoke(props: { space: Space; cid: string; to: string }) {
  const [armed, setArmed] = useState(false);
  const [voiding, setVoiding] = useState(false);
  const [since, setSince] = useState("");
  const { busy, run } = useAction();
  if (!armed) {
    return (
      <button type="button" aria-label={`Revoke delegation to ${props.to}`} onClick={() => setArmed(true)}>
        Revoke
      </button>
    );
  }
  const sinceMs = voiding && since ? new Date(since).getTime() : undefined;
  const sinceBad = voiding && (sinceMs === undefined || !Number.isFinite(sinceMs) || sinceMs > Date.now());
  const notice = revocationNotice(props.to, sinceBad ? undefined : sinceMs)
    .replace("Use --void-since to also void", "Tick the box below to also void");
  return (
    <div class="revoke-confirm" role="group" aria-label={`Revoke delegation to ${props.to}`}>
      <p data-revoke-notice>{notice}</p>
      <label>
        <input type="checkbox" checked={voiding} onChange={(e) => setVoiding((e.target as HTMLInputElement).checked)} />
        {" "}
        Also void what they signed since… (a stolen key; cannot be undone)
      </label>
      {voiding && (
        <label>
          Since{" "}
          <input
            type="datetime-local"
            value={since}
            max={new Date(Date.now() - new Date().getTimezoneOffset() * 60_000).toISOString().slice(0, 16)}
            onInput={(e) => setSince((e.target as HTMLInputElement).value)}
          />
        </label>
      )}
      <span class="row">
        <button
          type="button"
          class="danger"
          disabled={busy || sinceBad}
          onClick={() =>
            void run(
              () => props.space.revoke(props.cid, sinceMs === undefined ? {} : { voidSince: [sinceMs, 0] }),
              `Revoked the delegation to ${props.to}`,
            )}
        >
          {sinceMs === undefined ? "Confirm revoke" : "Revoke and void"}
        </button>
        <button type="button" onClick={() => setArmed(false)}>Keep</button>
      </span>
    </div>
  );
}
