/** Real Weft nodes for tests: in-process (memory channels) or on loopback libp2p. */
import { tcp } from "@libp2p/tcp";
import { generateSeed, type Signer, signerFromSeed } from "../../protocol/identity/ed25519.ts";
import type { Keystore } from "../../protocol/identity/keystore.ts";
import { createNode, type NodeOptions, type WeftNode } from "../../protocol/node/node.ts";
import { linkMemoryAdapters, MemoryNetworkAdapter } from "../../protocol/sync/memory-adapter.ts";
import type { StorageAdapterInterface } from "@automerge/automerge-repo";
import { nativeSigner } from "../../peer/crypto/native-signer.ts";
import { nativeVerifier } from "../../peer/crypto/native-verifier.ts";
import { installNativeSha256 } from "../../peer/crypto/native-sha256.ts";
import { nodeNoiseCrypto } from "../../peer/crypto/noise-crypto.ts";

// Test nodes hash as peers do.
installNativeSha256();

export function memoryKeystore(): Keystore {
  const keys = new Map<string, Signer>();
  return {
    load: (name) => Promise.resolve(keys.get(name)),
    async create(name) {
      if (keys.has(name)) throw new Error(`key ${name} exists`);
      const s = await signerFromSeed(generateSeed());
      keys.set(name, s);
      return s;
    },
  };
}

export interface TestNode {
  node: WeftNode;
  memory?: MemoryNetworkAdapter;
  seed: Uint8Array;
}

export async function memoryNode(options: Partial<NodeOptions> & { seed?: Uint8Array } = {}): Promise<TestNode> {
  const seed = options.seed ?? generateSeed();
  const node = await createNode({
    signer: nativeSigner(seed),
    verifier: nativeVerifier(),
    keystore: memoryKeystore(),
    ...options,
  });
  const memory = node.addNetwork((o) => new MemoryNetworkAdapter(o));
  return { node, memory, seed };
}

export function link(a: TestNode, b: TestNode): void {
  linkMemoryAdapters(a.memory as MemoryNetworkAdapter, b.memory as MemoryNetworkAdapter);
}

export async function libp2pNode(
  options: Partial<NodeOptions> & { seed?: Uint8Array; storage?: StorageAdapterInterface } = {},
): Promise<TestNode> {
  const seed = options.seed ?? generateSeed();
  const node = await createNode({
    signer: nativeSigner(seed),
    verifier: nativeVerifier(),
    keystore: options.keystore ?? memoryKeystore(),
    libp2p: { seed, transports: [tcp()], listen: ["/ip4/127.0.0.1/tcp/0"], noiseCrypto: nodeNoiseCrypto },
    ...options,
  });
  return { node, seed };
}

/** Dial b from a over libp2p. */
export async function dial(a: TestNode, b: TestNode): Promise<void> {
  await a.node.libp2p!.dial(b.node.libp2p!.getMultiaddrs()[0]);
}

/** Poll until `check` returns truthy (or throw after `ms`). */
export async function eventually<T>(check: () => T | Promise<T>, ms = 10_000, what = "condition"): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await check();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last}` : ""}`);
}

/** A canonical digest of a space's reduced task state (local-clock views excluded). */
export function stateDigest(space: import("../../protocol/space/space.ts").Space): string {
  const tasks = [...space.log.reducer.tasks.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
  return JSON.stringify(tasks);
}

/** Write raw bytes into a space's bucket document on one node, as a misbehaving member could. */
export async function injectOp(
  t: TestNode,
  space: import("../../protocol/space/space.ts").Space,
  bytes: Uint8Array,
  key: string,
): Promise<void> {
  const bucketId = space.documentIds[1];
  const handle = await t.node.repo.find<{ ops: Record<string, Uint8Array> }>(bucketId);
  handle.change((d) => {
    d.ops[key] = bytes;
  });
  await t.node.repo.flush([bucketId]);
}

/**
 * Close every libp2p connection between the two groups, and wait until
 * both ends of each have let go: a dial made while the far end still holds
 * its half of the old connection is handed that connection, which then
 * closes under the caller.
 */
export async function partition(left: TestNode[], right: TestNode[]): Promise<void> {
  for (const l of left) {
    for (const r of right) await l.node.libp2p!.hangUp(r.node.libp2p!.peerId);
  }
  const apart = (x: TestNode, y: TestNode) => x.node.libp2p!.getConnections(y.node.libp2p!.peerId).length === 0;
  await eventually(() => left.every((l) => right.every((r) => apart(l, r) && apart(r, l))), 5000, "partition");
}

/** Connect every pair (a full mesh). */
export async function mesh(nodes: TestNode[]): Promise<void> {
  for (let i = 0; i < nodes.length; i++) {
    for (let j = i + 1; j < nodes.length; j++) await dial(nodes[i], nodes[j]);
  }
}

/** An in-process link that delays every frame and can hold them back (a partition that loses nothing). */
export interface SlowLink {
  /** Hold every frame from now on, both ways. */
  hold(): void;
  /** Deliver what was held, in order, and stop holding. */
  release(): void;
}

/** Join two memory nodes through a relay that delays each frame by `delayMs`, keeping their order. */
export function slowLink(a: TestNode, b: TestNode, delayMs: number): SlowLink {
  const left = new MessageChannel();
  const right = new MessageChannel();
  let held: (() => void)[] | undefined;
  const forward = (from: MessagePort, to: MessagePort) => {
    from.onmessage = (e: MessageEvent) => {
      const deliver = () =>
        setTimeout(() => {
          to.postMessage(e.data);
          if (e.data === null) { for (const p of [left.port2, right.port1]) p.close(); }
        }, delayMs);
      if (held) held.push(deliver);
      else deliver();
    };
  };
  forward(left.port2, right.port1);
  forward(right.port1, left.port2);
  (a.memory as MemoryNetworkAdapter).attach(left.port1);
  (b.memory as MemoryNetworkAdapter).attach(right.port2);
  return {
    hold: () => void (held ??= []),
    release() {
      const queued = held ?? [];
      held = undefined;
      for (const deliver of queued) deliver();
    },
  };
}
