/**
 * One identity, two spellings: a node's did:key and its libp2p PeerId are
 * the same Ed25519 public key.
 */
import { peerIdFromPublicKey, peerIdFromString } from "@libp2p/peer-id";
import { publicKeyFromRaw } from "@libp2p/crypto/keys";
import type { PeerId } from "@libp2p/interface";
import { didFromPublicKey, InvalidDid, publicKeyFromDid } from "./did-key.ts";

export function peerIdFromDid(did: string): PeerId {
  return peerIdFromPublicKey(publicKeyFromRaw(publicKeyFromDid(did)));
}

/** The did:key of an Ed25519 PeerId (object or string form). */
export function didFromPeerId(peerId: PeerId | string): string {
  let id: PeerId;
  try {
    id = typeof peerId === "string" ? peerIdFromString(peerId) : peerId;
  } catch {
    throw new InvalidDid(String(peerId), "not a libp2p PeerId");
  }
  if (id.type !== "Ed25519" || id.publicKey === undefined) {
    throw new InvalidDid(id.toString(), `only Ed25519 PeerIds map to a did:key (got ${id.type})`);
  }
  return didFromPublicKey(id.publicKey.raw);
}

/**
 * Whether `peer` is an automerge-repo peer id `did` may use: a node's repo
 * peer id is its DID or its libp2p PeerId, both spellings of its one key.
 * Sessions are keyed by peer id, so a remote naming another node's would take
 * that node's place.
 */
export function isPeerIdOf(peer: string, did: string): boolean {
  return peer === did || peer === peerIdFromDid(did).toString();
}
