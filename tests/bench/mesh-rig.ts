/**
 * Shared set-up for mesh benchmarks: Weft nodes on loopback, and a
 * baseline of plain automerge-repo Repos over the same libp2p transport and
 * session framing but with every peer trusted and nothing signed or
 * verified, so a ratio isolates what Weft's verification costs.
 */
import { Repo } from "@automerge/automerge-repo";
import type { AutomergeUrl, DocHandle, DocumentId, PeerId } from "@automerge/automerge-repo";
import { tcp } from "@libp2p/tcp";
import { generateSeed } from "../../protocol/identity/ed25519.ts";
import { signerFromSeed } from "../../protocol/identity/ed25519.ts";
import { createWeftLibp2p, stopWeftLibp2p, type WeftLibp2p } from "../../protocol/node/libp2p.ts";
import { Diagnostics } from "../../protocol/diagnostics.ts";
import { Libp2pNetworkAdapter } from "../../protocol/sync/libp2p-adapter.ts";
import type { SyncAuthority } from "../../protocol/sync/sync-authority.ts";
import { MemoryStorageAdapter } from "../../protocol/storage/memory-storage.ts";

/** Every peer proves membership of one "space" with a dummy proof that is always accepted. */
const PLAIN_SPACE = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp";
const TRUST_ALL: SyncAuthority = {
  prove: () => Promise.resolve([{ space: PLAIN_SPACE, proof: new Uint8Array([1]) }]),
  offers: (space) => space === PLAIN_SPACE,
  verify: () => Promise.resolve({ space: PLAIN_SPACE, lapsesInMs: null }),
  revocationsOf: () => [],
  learnRevocations: () => Promise.resolve(),
  spaceOf: () => PLAIN_SPACE,
  onChange: () => () => {},
};

export interface PlainPeer {
  repo: Repo;
  libp2p: WeftLibp2p;
  adapter: Libp2pNetworkAdapter;
  stop(): Promise<void>;
}

export async function plainPeer(): Promise<PlainPeer> {
  const seed = generateSeed();
  const did = (await signerFromSeed(seed)).did;
  const libp2p = await createWeftLibp2p({ seed, transports: [tcp()], listen: ["/ip4/127.0.0.1/tcp/0"] });
  const storage = new MemoryStorageAdapter();
  await storage.save(["storage-adapter-id"], new TextEncoder().encode(crypto.randomUUID()));
  const repo = new Repo({ peerId: libp2p.peerId.toString() as PeerId, storage, network: [] });
  await repo.storageId();
  const adapter = new Libp2pNetworkAdapter({ libp2p, did, authority: TRUST_ALL, diagnostics: new Diagnostics() });
  repo.networkSubsystem.addNetworkAdapter(adapter);
  return {
    repo,
    libp2p,
    adapter,
    async stop() {
      adapter.disconnect();
      await repo.shutdown().catch(() => {});
      await stopWeftLibp2p(libp2p);
    },
  };
}

export async function fullMesh(nodes: WeftLibp2p[]): Promise<void> {
  for (let i = 0; i < nodes.length; i++) {
    for (let j = i + 1; j < nodes.length; j++) await nodes[i].dial(nodes[j].getMultiaddrs()[0]);
  }
}

/**
 * Find a document another peer has just created. On a loaded machine a
 * peer can ask before the creator's sessions answer and be told it is
 * unavailable; ask again (up to 10 times) rather than fail the run.
 */
export async function findSoon<T>(repo: Repo, url: AutomergeUrl): Promise<DocHandle<T>> {
  for (let attempt = 1;; attempt++) {
    try {
      return await repo.find<T>(url);
    } catch (e) {
      if (attempt >= 10 || !String(e).includes("unavailable")) throw e;
      await new Promise((r) => setTimeout(r, 100 * attempt));
    }
  }
}

/** Fires `onKey(key)` the first time each key appears in a document's `ops` map. */
export function watchKeys(handle: DocHandle<{ ops: Record<string, unknown> }>, onKey: (key: string) => void): void {
  handle.on("change", ({ patches }) => {
    for (const p of patches) {
      if (p.action === "put" && p.path[0] === "ops" && p.path.length === 2) onKey(String(p.path[1]));
    }
  });
}

export type { DocumentId };
