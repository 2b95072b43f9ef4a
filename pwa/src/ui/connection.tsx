/**
 * The connection state, told honestly: offline when the browser says so,
 * otherwise what the WebSocket transport reports for each peer and relay
 * (connecting, open, closed) and how many remotes have proved who they are
 * in a sync session. Working offline is normal: everything is local. A
 * space this node was removed from does not sync, whatever the links say.
 */
import type { Space } from "#protocol/space";
import { standing } from "../model/can.ts";
import { useEvents, useTick } from "../model/hooks.ts";
import type { BrowserNode } from "../node/browser-node.ts";
import { useApp } from "./context.ts";

export type LinkState = "connecting" | "open" | "closed";

export function peerStates(bn: BrowserNode): { url: string; carrier: boolean; state: LinkState }[] {
  return bn.peers.map((p) => ({ ...p, state: bn.ws.status.get(p.url) ?? "connecting" }));
}

export function ConnectionBadge(props: { space?: Space }) {
  const { bn } = useApp();
  useTick(1000);
  useEvents((fire) => bn.subscribe(fire), [bn]);
  const peers = peerStates(bn);
  const open = peers.filter((p) => p.state === "open").length;
  const sessions = bn.ws.sessions.size;
  let label: string;
  let tone: "ok" | "warn" | "off";
  const st = props.space ? standing(props.space, bn.did).state : "member";
  if (st === "revoked" || st === "expired") {
    [label, tone] = [
      st === "revoked" ? "Not syncing — removed from this space" : "Not syncing — access expired",
      "off",
    ];
  } else if (!navigator.onLine) [label, tone] = ["Offline — changes are kept here", "off"];
  else if (peers.length === 0) [label, tone] = ["Local only — no peer set", "off"];
  else if (open === 0) {
    [label, tone] = [peers.some((p) => p.state === "connecting") ? "Connecting…" : "Disconnected — retrying", "warn"];
  } else [label, tone] = [`Synced with ${sessions} peer${sessions === 1 ? "" : "s"}`, sessions > 0 ? "ok" : "warn"];
  return (
    <a href="#/settings" class={`badge conn ${tone}`} aria-label={`Connection: ${label}`} data-connection={tone}>
      <span class="dot" aria-hidden="true" />
      <span class="conn-label">{label}</span>
    </a>
  );
}
