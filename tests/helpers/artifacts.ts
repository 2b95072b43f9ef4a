/** Real Weft nodes on loopback libp2p with their artifact services (local store, helia, S3 when given). */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { ArtifactService } from "../../peer/artifacts/service.ts";
import type { S3Settings } from "../../peer/artifacts/s3-config.ts";
import { nativeVerifier } from "../../peer/crypto/native-verifier.ts";
import { libp2pNode, type TestNode } from "./nodes.ts";
import { encodeRunLog } from "../../protocol/artifacts/run-log.ts";

export interface ArtifactPeer extends TestNode {
  artifacts: ArtifactService;
  dir: string;
  stop(): Promise<void>;
}

export async function artifactPeer(options: { s3?: S3Settings } = {}): Promise<ArtifactPeer> {
  const t = await libp2pNode();
  const dir = await mkdtemp(join(tmpdir(), "weft-artifacts-"));
  const artifacts = await ArtifactService.open({
    dir,
    node: t.node,
    verifier: nativeVerifier(),
    ...(options.s3 ? { s3: options.s3 } : {}),
  });
  return {
    ...t,
    artifacts,
    dir,
    async stop() {
      await artifacts.stop();
      await t.node.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Chunks of deterministic pseudo-random bytes, `total` in all, generated as they are read. */
export async function* pattern(total: number, chunk = 1 << 20, seed = 1): AsyncGenerator<Uint8Array> {
  let x = seed >>> 0 || 1;
  for (let done = 0; done < total; done += chunk) {
    const out = new Uint8Array(Math.min(chunk, total - done));
    const view = new Uint32Array(out.buffer, 0, out.length >>> 2);
    for (let i = 0; i < view.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      view[i] = x >>> 0;
    }
    yield out;
  }
}

/**
 * Run `work` and return by how much live memory (JS heap plus array
 * buffers, sampled after a forced GC every `intervalMs`) peaked above where it
 * started, in bytes: what a streaming path must keep flat as files grow.
 * The GC is a synchronous last-resort one: a plain gc() leaves dead array
 * buffers to a concurrent sweeper, so they would still be counted as live.
 */
export async function peakLiveGrowth(work: () => Promise<void>, intervalMs = 100): Promise<number> {
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as (options?: { type: string; execution: string; flavor: string }) => void;
  const live = () => {
    gc({ type: "major", execution: "sync", flavor: "last-resort" });
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };
  const start = live();
  let peak = start;
  const timer = setInterval(() => (peak = Math.max(peak, live())), intervalMs);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return Math.max(peak, live()) - start;
}

/** A run's log file holding these stdout lines, as a runner would record it. */
export const runLog = (...lines: string[]): Uint8Array =>
  encodeRunLog(lines.map((text) => ({ stream: "stdout", at: Date.now(), text })));
