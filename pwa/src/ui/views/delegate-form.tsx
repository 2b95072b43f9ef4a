/**
 * Delegating a capability from this node to a DID, attenuated: one command
 * (only those this node holds are offered), an optional UCAN policy on the
 * arguments (e.g. `[["==", ".labels", ["docs"]]]`), an expiry, a name and
 * kind. It is signed here and recorded in the space document, so every
 * node can check what the delegate does.
 */
import { useState } from "preact/hooks";
import type { Space } from "#protocol/space";
import { isDidKey } from "#protocol/identity";
import { WeftError } from "#protocol";
import { type Ipld, parsePolicy } from "#protocol/ucan";
import { delegable } from "../../model/delegations.ts";
import { useAction, useApp } from "../context.ts";
import { expiration, ExpirySelect, NameField } from "../expiry.tsx";

function policyOf(text: string): Ipld[] | undefined {
  if (!text.trim()) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new WeftError("InvalidInput", "input/policy", "the policy is not JSON");
  }
  return parsePolicy(raw).source as Ipld[];
}

export function DelegateForm(props: { space: Space }) {
  const { bn } = useApp();
  const commands = delegable(props.space, bn.did);
  const [audience, setAudience] = useState("");
  const [command, setCommand] = useState(commands.includes("/weft/task/comment") ? "/weft/task/comment" : commands[0]);
  const [policy, setPolicy] = useState("");
  const [expiry, setExpiry] = useState(0);
  const [name, setName] = useState("");
  const [kind, setKind] = useState<"member" | "device" | "agent">("member");
  const { busy, run } = useAction();
  if (commands.length === 0) return <p class="hint">This device holds nothing it could delegate in this space.</p>;
  const members = props.space.members();
  return (
    <form
      class="stack"
      aria-labelledby="delegate-title"
      onSubmit={async (e) => {
        e.preventDefault();
        const ok = await run(async () => {
          const did = audience.trim();
          if (!isDidKey(did)) throw new WeftError("InvalidInput", "input/did", "the audience must be a did:key");
          const pol = policyOf(policy);
          await props.space.invite({
            audience: did,
            command,
            ...(pol ? { policy: pol } : {}),
            expiration: expiration(expiry),
            ...(name.trim() ? { name: name.trim() } : {}),
            kind,
          });
        }, `Delegated ${command}`);
        if (ok) {
          setAudience("");
          setPolicy("");
        }
      }}
    >
      <h2 id="delegate-title">Delegate a capability</h2>
      <label for="dlg-audience">To (DID)</label>
      <input
        id="dlg-audience"
        list="dlg-members"
        required
        placeholder="did:key:z6Mk…"
        value={audience}
        onInput={(e) => setAudience((e.target as HTMLInputElement).value)}
      />
      <datalist id="dlg-members">
        {members.map((m) => <option key={m.did} value={m.did}>{m.name ?? m.kind}</option>)}
      </datalist>
      <label for="dlg-command">Command (covers everything below it)</label>
      <select id="dlg-command" value={command} onChange={(e) => setCommand((e.target as HTMLSelectElement).value)}>
        {commands.map((c) => <option key={c} value={c}>{c}</option>)}
      </select>
      <label for="dlg-policy">Policy on the arguments (UCAN policy JSON, optional)</label>
      <textarea
        id="dlg-policy"
        rows={2}
        placeholder='[["==", ".labels", ["docs"]]]'
        value={policy}
        onInput={(e) => setPolicy((e.target as HTMLTextAreaElement).value)}
      />
      <div class="row wrap">
        <label>
          <span>Expires</span> <ExpirySelect id="dlg-expiry" value={expiry} onChange={setExpiry} />
        </label>
        <label>
          <span>Kind</span>{" "}
          <select value={kind} onChange={(e) => setKind((e.target as HTMLSelectElement).value as typeof kind)}>
            <option value="member">person</option>
            <option value="device">device</option>
            <option value="agent">agent</option>
          </select>
        </label>
        <NameField value={name} onChange={setName} />
      </div>
      <div>
        <button type="submit" disabled={busy || !audience.trim()}>Delegate</button>
      </div>
    </form>
  );
}
