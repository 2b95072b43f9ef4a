/**
 * Connects and disconnects that cost what the peer may sync, not what the
 * node holds. automerge-repo's CollectionSynchronizer walks every document
 * in the repo when a peer comes (`addPeer`: a share check per document) and
 * when it goes (`removePeer`: an `endSync` per document). A relay holding 50
 * spaces holds 3,250 documents (a space document and 64 buckets each), so
 * each of 500 stock clients connecting — each to one document — walked all
 * of them, twice with a reconnect: that walk was the relay's peer churn, 60
 * times the stock sync server's (which holds 50).
 *
 * Both walks are given only the documents that can matter, the rest of the
 * synchronizer's behaviour unchanged: `addPeer` begins sync only where the
 * share policy says yes, which needs the document's space to be one the peer
 * proved — so it walks the documents of those spaces (`mayShare`); `endSync`
 * does something only for documents the peer was syncing, which the
 * synchronizer announces as it adds a peer to each ("open-doc") — so
 * `removePeer` walks those. Both calls read the synchronizer's document table
 * synchronously, so it is narrowed for the call and restored before anything
 * else runs.
 */
import type { PeerId, Repo } from "@automerge/automerge-repo";

/** The part of automerge-repo's CollectionSynchronizer the walks go through. */
interface Synchronizer {
  docSynchronizers: Record<string, unknown>;
  addPeer(peer: PeerId): void;
  removePeer(peer: PeerId): void;
  on(event: "open-doc", listener: (e: { peerId: PeerId; documentId: string }) => void): void;
}

/** Make `repo`'s peer walks visit only `mayShare(peer)`'s documents (on connect) and the peer's own (on leaving). */
export function scopePeerWalks(repo: Repo, mayShare: (peer: string) => Iterable<string>): void {
  const sync = repo.synchronizer as unknown as Synchronizer;
  /** Per peer: the documents it was added to (and so must be ended on) since it connected. */
  const syncing = new Map<string, Set<string>>();
  sync.on("open-doc", ({ peerId, documentId }) => {
    let docs = syncing.get(peerId);
    if (docs === undefined) syncing.set(peerId, docs = new Set());
    docs.add(documentId);
  });
  const addPeer = sync.addPeer.bind(sync);
  const removePeer = sync.removePeer.bind(sync);
  sync.addPeer = (peer) => narrowed(sync, mayShare(peer), () => addPeer(peer));
  sync.removePeer = (peer) => {
    const docs = syncing.get(peer) ?? [];
    syncing.delete(peer);
    narrowed(sync, docs, () => removePeer(peer));
  };
}

/**
 * Run `call` with the synchronizer's document table narrowed to `docs` (those
 * it has), then restore it — with whatever the call added or removed, should
 * anything it set off synchronously do either.
 */
function narrowed(sync: Synchronizer, docs: Iterable<string>, call: () => void): void {
  const all = sync.docSynchronizers;
  const some: Record<string, unknown> = {};
  for (const doc of docs) if (all[doc] !== undefined) some[doc] = all[doc];
  const picked = new Set(Object.keys(some));
  sync.docSynchronizers = some;
  try {
    call();
  } finally {
    sync.docSynchronizers = all;
    for (const doc of picked) if (!(doc in some)) delete all[doc];
    for (const [doc, s] of Object.entries(some)) if (!picked.has(doc)) all[doc] = s;
  }
}
