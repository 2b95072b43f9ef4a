/**
 * Collecting the invites a peer holds for this browser (`weft space invite
 * --to <this browser's DID>`), so they arrive without pasting: the browser
 * signs a one-use request about itself (an invocation of /weft/invite/read
 * on its own DID, addressed to the peer) and the peer answers with the
 * invites its spaces record for that DID. Only the peer that served this
 * page is asked; spaces already joined are left out.
 */
import type { WeftNode } from "#protocol/node";
import { Commands, encodeContainer, invoke } from "#protocol/ucan";

export interface WaitingInvite {
  space: string;
  name: string;
  invite: string;
}

const PATH = "/v1/invites";

/** The DID of the peer at `origin` (public; it signs nothing for us), or undefined if it has none. */
export async function peerDid(origin: string): Promise<string | undefined> {
  const r = await fetch(new URL("/v1/identity", origin), { cache: "no-store" });
  if (!r.ok) return undefined;
  const { did } = await r.json() as { did?: unknown };
  return typeof did === "string" ? did : undefined;
}

/** Ask the peer at `origin`, whose DID is `did`, for the invites it holds for this node. */
export async function invitesWaiting(node: WeftNode, origin: string, did: string): Promise<WaitingInvite[]> {
  const request = await invoke({
    issuer: node.signer,
    subject: node.did,
    audience: did,
    command: Commands.inviteRead,
    args: { method: "GET", path: PATH },
    proofs: [],
    expiration: Math.floor(Date.now() / 1000) + 60,
  });
  const bearer = await encodeContainer([request.bytes], "C");
  const r = await fetch(new URL(PATH, origin), { headers: { authorization: `Bearer ${bearer}` }, cache: "no-store" });
  if (!r.ok) return [];
  const { invites } = await r.json() as { invites?: unknown };
  if (!Array.isArray(invites)) return [];
  return invites.filter((i): i is WaitingInvite =>
    typeof i?.space === "string" && typeof i?.name === "string" && typeof i?.invite === "string" &&
    i.invite.length <= 64 * 1024 && !node.space(i.space)
  );
}
