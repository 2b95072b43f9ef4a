/** The first page of a browser in no space yet: who this device is, and how to join or start a space. */
import { useApp } from "../context.ts";
import { CopyText } from "../copy.tsx";
import { JoinOrCreate } from "../space-forms.tsx";

export function Welcome() {
  const { bn } = useApp();
  return (
    <section aria-labelledby="welcome-title" class="stack">
      <h1 id="welcome-title">Weft in this browser</h1>
      <p>
        This tab is a full Weft node: it keeps every space and task it sees in this browser, works offline, and signs
        what you do with its own key. Join a space a peer shares with you, or start one here.
      </p>
      {bn.pendingJoins.length > 0 && (
        <p role="status">Waiting for a member to serve {bn.pendingJoins.length} space(s) you joined…</p>
      )}
      <JoinOrCreate />
      <h2>This device</h2>
      <p>
        Someone can also invite this device by its DID (<code>weft space invite --to &lt;did&gt;</code>):
      </p>
      <CopyText value={bn.did} label="This device's DID" />
      {bn.peers.length === 0 && (
        <p class="hint">
          No peer set: add one under <a href="#/settings">Settings</a> to sync.
        </p>
      )}
    </section>
  );
}
