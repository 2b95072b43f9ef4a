/**
 * The libp2p half of a node: noise, yamux, identify and ping over whatever
 * transports the shell injects, with nothing that dials on its own (no
 * discovery, no public routers): a node meets only the peers it is told
 * about. The node's Ed25519 key is its PeerId.
 *
 * Nothing of a space is served on this node's libp2p except over
 * `/weft/sync/1` sessions, and there only to a remote that proved it may
 * sync that space: no gossipsub (a stranger could subscribe to a topic),
 * no bitswap (a stranger could ask for blocks and be sent wantlists).
 */
import { createLibp2p, type Libp2pOptions } from "libp2p";
import { type ICryptoInterface, noise } from "@chainsafe/libp2p-noise";
import { yamux } from "@chainsafe/libp2p-yamux";
import { identify } from "@libp2p/identify";
import { ping } from "@libp2p/ping";
import { generateKeyPairFromSeed } from "@libp2p/crypto/keys";
import type { Libp2p } from "@libp2p/interface";

export interface Libp2pConfig {
  /** The node's 32-byte Ed25519 seed (the same key as its DID). */
  seed: Uint8Array;
  /** Transports from the shell, e.g. [tcp(), webSockets()]. */
  transports: NonNullable<Libp2pOptions["transports"]>;
  /** Listen addresses, e.g. ["/ip4/127.0.0.1/tcp/0"]. */
  listen?: string[];
  connectionGater?: Libp2pOptions["connectionGater"];
  /**
   * Noise's cipher from the shell (e.g. node:crypto on a peer); omitted, libp2p-noise picks its own for the
   * runtime. Any implementation speaks the same bytes.
   */
  noiseCrypto?: ICryptoInterface;
}

export type WeftLibp2p = Libp2p<{ identify: unknown; ping: unknown }>;

export async function createWeftLibp2p(config: Libp2pConfig): Promise<WeftLibp2p> {
  const privateKey = await generateKeyPairFromSeed("Ed25519", config.seed);
  return await createLibp2p({
    privateKey,
    addresses: { listen: config.listen ?? [] },
    transports: config.transports,
    connectionEncrypters: [noise(config.noiseCrypto ? { crypto: config.noiseCrypto } : {})],
    streamMuxers: [yamux()],
    peerDiscovery: [],
    // Peers on one LAN or loopback share an address: the default of 5 inbound
    // connections per second per host would refuse a small mesh coming up.
    connectionManager: { inboundConnectionThreshold: 100, maxIncomingPendingConnections: 100 },
    ...(config.connectionGater ? { connectionGater: config.connectionGater } : {}),
    services: {
      identify: identify(),
      ping: ping(),
    },
  }) as unknown as WeftLibp2p;
}

/**
 * Stop libp2p and clear the timer it leaves behind (the address manager's
 * debounce), so a process can exit.
 */
export async function stopWeftLibp2p(node: WeftLibp2p): Promise<void> {
  await node.stop();
  // deno-lint-ignore no-explicit-any
  (node as any).components?.addressManager?._updatePeerStoreAddresses?.stop?.();
}
