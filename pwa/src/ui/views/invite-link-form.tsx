/**
 * Making an invite link: a delegation to a one-time key whose seed rides in
 * the link, so whoever opens it joins with that authority. A link carries
 * one command: everything in the space, or sync only (read and follow;
 * delegate more to the new member's DID afterwards). The peers this browser
 * syncs with go along as hints.
 */
import { useState } from "preact/hooks";
import type { Space } from "#protocol/space";
import { Commands } from "#protocol/ucan";
import { can } from "../../model/can.ts";
import { useAction, useApp } from "../context.ts";
import { CopyText } from "../copy.tsx";
import { expiration, ExpirySelect, NameField } from "../expiry.tsx";

const KINDS: [string, string][] = [
  [Commands.all, "full member (everything in the space)"],
  [Commands.spaceSync, "sync only (reads; add commands later)"],
];

export function InviteLinkForm(props: { space: Space }) {
  const { bn } = useApp();
  const offered = KINDS.filter(([c]) => can(props.space, bn.did, c));
  const [command, setCommand] = useState(offered[0]?.[0] ?? "");
  const [expiry, setExpiry] = useState(3);
  const [name, setName] = useState("");
  const [invite, setInvite] = useState("");
  const { busy, run } = useAction();
  if (offered.length === 0) return <p class="hint">This device cannot invite anyone to this space.</p>;
  const link = invite ? `${location.origin}${location.pathname}#/join?invite=${invite}` : "";
  return (
    <form
      class="stack"
      aria-labelledby="invite-title"
      onSubmit={(e) => {
        e.preventDefault();
        void run(async () =>
          setInvite(
            await bn.node.invite(props.space.id, {
              command,
              expiration: expiration(expiry),
              ...(name.trim() ? { name: name.trim() } : {}),
              peers: bn.peers.filter((p) => !p.carrier).map((p) => p.url),
            }),
          )
        );
      }}
    >
      <h2 id="invite-title">Invite with a link</h2>
      <label for="invite-command">Grants</label>
      <select id="invite-command" value={command} onChange={(e) => setCommand((e.target as HTMLSelectElement).value)}>
        {offered.map(([c, label]) => <option key={c} value={c}>{label}</option>)}
      </select>
      <div class="row wrap">
        <label>
          <span>Expires</span> <ExpirySelect id="invite-expiry" value={expiry} onChange={setExpiry} />
        </label>
        <NameField value={name} onChange={setName} />
      </div>
      <div>
        <button type="submit" disabled={busy}>Make invite</button>
      </div>
      {invite && (
        <>
          <p class="hint">
            Anyone holding this can join: share it like a password. Revoking its delegation cuts off everyone who joined
            with it.
          </p>
          <CopyText value={link} label="Invite link" multiline />
          <CopyText value={invite} label="Invite text" multiline />
        </>
      )}
    </form>
  );
}
