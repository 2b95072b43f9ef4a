/**
 * This node's settings and state: its identity (the DID of a key that
 * cannot leave this browser), the peers and relays it syncs with and what
 * each connection is doing, the sync sessions that proved themselves,
 * local storage, and the offline app's service worker.
 */
import { useEffect, useState } from "preact/hooks";
import { serviceWorker } from "../../boot/service-worker.ts";
import { useEvents, useTick } from "../../model/hooks.ts";
import { peerStates } from "../connection.tsx";
import { useAction, useApp } from "../context.ts";
import { CopyText } from "../copy.tsx";
import { namesOf, shortDid } from "../format.ts";

export function SettingsView() {
  const { bn } = useApp();
  useTick(1000);
  useEvents((fire) => bn.subscribe(fire), [bn]);
  return (
    <section aria-labelledby="settings-title" class="stack">
      <h1 id="settings-title">Settings</h1>
      <h2>This device</h2>
      <CopyText value={bn.did} label="This device's DID" />
      <p class="hint">
        An Ed25519 key made by this browser's WebCrypto as non-extractable and kept in IndexedDB: it signs everything
        this device does, and cannot be read out or copied.
      </p>
      <Peers />
      <Sessions />
      <Storage />
      <OfflineApp />
    </section>
  );
}

function Peers() {
  const { bn } = useApp();
  const [address, setAddress] = useState("");
  const [relay, setRelay] = useState(false);
  const { busy, run } = useAction();
  const peers = peerStates(bn);
  return (
    <div class="stack" aria-labelledby="peers-title">
      <h2 id="peers-title">Peers and relays</h2>
      {peers.length === 0
        ? <p class="empty">No peer set: this node keeps everything locally and syncs once you add one.</p>
        : (
          <ul class="plain">
            {peers.map((p) => (
              <li key={p.url} class="row">
                <span class={`badge ${p.state}`} data-peer-state={p.state}>{p.state}</span>
                <code>{p.url}</code>
                {p.carrier && <span class="tag">relay</span>}
                <button
                  type="button"
                  aria-label={`Stop syncing with ${p.url}`}
                  onClick={() => void run(() => bn.removePeer(p.url), `Removed ${p.url}`)}
                >
                  Remove
                </button>
              </li>
            ))}
          </ul>
        )}
      <form
        class="row wrap"
        onSubmit={async (e) => {
          e.preventDefault();
          if (await run(() => bn.addPeer(address, relay), `Connecting to ${address}`)) setAddress("");
        }}
      >
        <label for="peer-address" class="sr-only">Peer or relay address</label>
        <input
          id="peer-address"
          placeholder="host:port, https://… or wss://…/v1/sync"
          required
          value={address}
          onInput={(e) => setAddress((e.target as HTMLInputElement).value)}
        />
        <label class="check">
          <input type="checkbox" checked={relay} onChange={(e) => setRelay((e.target as HTMLInputElement).checked)} />
          edge relay
        </label>
        <button type="submit" disabled={busy || !address.trim()}>Add</button>
      </form>
      <p class="hint">
        A peer proves it is a member of a space before this node shares that space with it. An edge relay is not a
        member: it carries the spaces this node proves membership of.
      </p>
    </div>
  );
}

function Sessions() {
  const { bn } = useApp();
  const sessions = [...bn.ws.sessions.values()];
  const names = new Map<string, string>();
  for (const s of bn.node.spaces()) for (const [did, name] of namesOf(s)) names.set(did, name);
  const spaceName = (id: string) => bn.node.space(id)?.name ?? shortDid(id);
  return (
    <div aria-labelledby="sessions-title">
      <h2 id="sessions-title">Sync sessions</h2>
      {sessions.length === 0
        ? <p class="empty">No remote has proved itself to this node right now.</p>
        : (
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Remote</th>
                  <th scope="col">Spaces it proved</th>
                  <th scope="col">Spaces it serves us</th>
                </tr>
              </thead>
              <tbody>
                {sessions.map((s) => (
                  <tr key={s.remotePeer}>
                    <td>
                      <code title={s.remoteDid}>{names.get(s.remoteDid ?? "") ?? shortDid(s.remoteDid ?? "?")}</code>
                    </td>
                    <td>{[...s.spaces].map(spaceName).join(", ") || "none"}</td>
                    <td>{[...s.accepted].map(spaceName).join(", ") || "none"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
    </div>
  );
}

function Storage() {
  const [estimate, setEstimate] = useState<StorageEstimate>();
  const [persisted, setPersisted] = useState<boolean>();
  useEffect(() => {
    void navigator.storage?.estimate().then(setEstimate);
    void navigator.storage?.persisted().then(setPersisted);
  }, []);
  return (
    <div aria-labelledby="storage-title">
      <h2 id="storage-title">Storage</h2>
      <p>
        {estimate ? `${((estimate.usage ?? 0) / 1e6).toFixed(1)} MB used in this browser. ` : ""}
        {persisted
          ? "Storage is persistent: the browser will not evict it."
          : "The browser may evict this data under storage pressure unless it is made persistent."}
      </p>
      {persisted === false && (
        <button type="button" onClick={() => void navigator.storage.persist().then(setPersisted)}>
          Keep data persistently
        </button>
      )}
    </div>
  );
}

function OfflineApp() {
  useEvents((fire) => serviceWorker.subscribe(fire), []);
  const text = {
    unsupported: "This browser has no service workers: the app needs the network to open.",
    installing: "Installing the offline app…",
    active: "The app is installed for offline use.",
    "update-ready": "A new version is ready.",
    failed: `The offline app could not be installed: ${serviceWorker.error}`,
  }[serviceWorker.state];
  return (
    <div aria-labelledby="offline-title">
      <h2 id="offline-title">Offline app</h2>
      <p data-sw-state={serviceWorker.state}>{text}</p>
      {serviceWorker.state === "update-ready" && (
        <button type="button" onClick={() => serviceWorker.applyUpdate()}>Reload onto the new version</button>
      )}
    </div>
  );
}
