/**
 * Invites: what someone needs to join a space — the space document's URL
 * and the delegation chain that makes them a member. Two kinds:
 *  - addressed: the chain ends at the invitee's DID (you know their DID);
 *  - link: the chain ends at a one-time invite key whose seed rides in the
 *    token; the joiner uses it to delegate the same authority to itself.
 *    Anyone holding the link can join, so share it like a password; revoking
 *    the delegation to the invite key cuts off everyone who joined with it.
 * Text form: `weft-invite:` + base64url(CBOR).
 */
import * as cborg from "cborg";
import { isValidAutomergeUrl } from "@automerge/automerge-repo";
import { fromBase64Url, toBase64Url } from "../bytes.ts";
import { WeftError } from "../errors.ts";
import { isDidKey } from "../identity/did-key.ts";

const PREFIX = "weft-invite:";
const MAX_INVITE_CHARS = 64 * 1024;

export interface Invite {
  /** The space's DID. */
  space: string;
  /** automerge URL of the space document. */
  url: string;
  /** Delegation tokens, root first. */
  tokens: Uint8Array[];
  /** For link invites: the seed of the invite key the chain ends at. */
  seed?: Uint8Array;
  /** Where to find a peer: multiaddrs or ws:// URLs (hints, not trusted). */
  peers?: string[];
}

export class InvalidInvite extends WeftError {
  constructor(why: string) {
    super("InvalidInvite", "invite/invalid", `not a valid Weft invite: ${why}`);
  }
}

export function encodeInvite(invite: Invite): string {
  const body: Record<string, unknown> = { v: 1, space: invite.space, url: invite.url, tokens: invite.tokens };
  if (invite.seed) body.seed = invite.seed;
  if (invite.peers?.length) body.peers = invite.peers;
  return PREFIX + toBase64Url(cborg.encode(body));
}

export function decodeInvite(text: string): Invite {
  if (typeof text !== "string" || !text.startsWith(PREFIX)) throw new InvalidInvite(`it must start with ${PREFIX}`);
  if (text.length > MAX_INVITE_CHARS) throw new InvalidInvite("it is too long");
  let body: Record<string, unknown>;
  try {
    body = cborg.decode(fromBase64Url(text.slice(PREFIX.length).trim()), { allowUndefined: false }) as Record<
      string,
      unknown
    >;
  } catch {
    throw new InvalidInvite("it is damaged (copy the whole text)");
  }
  if (typeof body !== "object" || body === null || body.v !== 1) throw new InvalidInvite("unknown version");
  if (!isDidKey(body.space)) throw new InvalidInvite("bad space DID");
  if (typeof body.url !== "string" || !isValidAutomergeUrl(body.url)) throw new InvalidInvite("bad document URL");
  const tokens = body.tokens;
  if (
    !Array.isArray(tokens) || tokens.length === 0 || tokens.length > 16 || !tokens.every((t) => t instanceof Uint8Array)
  ) {
    throw new InvalidInvite("bad delegation chain");
  }
  if (body.seed !== undefined && !(body.seed instanceof Uint8Array && body.seed.length === 32)) {
    throw new InvalidInvite("bad invite key");
  }
  const peers = body.peers;
  if (
    peers !== undefined && (!Array.isArray(peers) || peers.length > 16 || !peers.every((p) => typeof p === "string"))
  ) {
    throw new InvalidInvite("bad peer hints");
  }
  return {
    space: body.space,
    url: body.url,
    tokens: tokens as Uint8Array[],
    ...(body.seed ? { seed: body.seed as Uint8Array } : {}),
    ...(peers ? { peers: peers as string[] } : {}),
  };
}
