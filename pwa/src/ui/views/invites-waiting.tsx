/**
 * Invites the peer that served this page holds for this browser, offered
 * with a Join button: what `weft space invite --to <this browser's DID>`
 * made arrives here within seconds, without pasting. Asked on load, every
 * few seconds while the page is visible, and when the browser comes online;
 * a page no peer served asks nothing.
 */
import { useEffect, useState } from "preact/hooks";
import { navigate, spaceHref } from "../../model/route.ts";
import { invitesWaiting, peerDid, type WaitingInvite } from "../../node/invite-mailbox.ts";
import { servingPeer } from "../../node/peer-url.ts";
import { useApp } from "../context.ts";

const POLL_MS = 5000;

export function InvitesWaiting() {
  const { bn, notify } = useApp();
  const [invites, setInvites] = useState<WaitingInvite[]>([]);
  const [joining, setJoining] = useState<string | undefined>();
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    // Whether a peer served this page, and its DID, asked once per load (and on coming online).
    let peer: Promise<string | undefined> | undefined;
    const check = async () => {
      clearTimeout(timer);
      try {
        peer ??= servingPeer(location).then((url) => url ? peerDid(location.origin) : undefined);
        const did = await peer.catch((e) => {
          peer = undefined;
          throw e;
        });
        if (!did) {
          peer = undefined; // asked again when the browser comes (back) online
          return;
        }
        if (!document.hidden) setInvites(await invitesWaiting(bn.node, location.origin, did));
      } catch {
        // Offline or the peer is restarting: asked again shortly.
      }
      if (!stopped) timer = setTimeout(check, POLL_MS);
    };
    const onOnline = () => void check();
    void check();
    addEventListener("online", onOnline);
    return () => {
      stopped = true;
      clearTimeout(timer);
      removeEventListener("online", onOnline);
    };
  }, []);
  const waiting = invites.filter((i) => !bn.node.space(i.space));
  if (waiting.length === 0) return null;
  return (
    <section class="stack" aria-labelledby="invites-waiting-title">
      <h2 id="invites-waiting-title">Invited to a space</h2>
      {waiting.map((i) => (
        <p key={i.space} class="invite-waiting">
          <span>
            You were invited to <strong>{i.name}</strong> (<code>{i.space.slice(0, 20)}…</code>)
          </span>{" "}
          <button
            type="button"
            disabled={joining !== undefined}
            onClick={async () => {
              setJoining(i.space);
              try {
                const space = await bn.join(i.invite);
                notify({ text: `Joined ${space.name}` });
                navigate(spaceHref(space.id, "tasks"));
              } catch (e) {
                notify({ text: (e as Error).message, error: true });
              } finally {
                setJoining(undefined);
              }
            }}
          >
            {joining === i.space ? "Joining…" : `Join ${i.name}`}
          </button>
        </p>
      ))}
    </section>
  );
}
