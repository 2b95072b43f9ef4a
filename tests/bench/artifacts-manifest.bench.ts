/**
 * A run's manifest put on one peer and fetched by another by CID: two real
 * Weft nodes on loopback libp2p (TCP, noise, yamux), A puts a signed
 * manifest block into its helia store (durably, pinned), B gets it from A
 * over their sync session, the members-only blob exchange (checked against
 * its CID) — against a direct libp2p
 * request/response of the same bytes between the same two nodes (a
 * protocol handler on A answering a CID with the bytes from memory), in
 * alternating order in the same run. A second figure adds what B does with
 * a manifest it is asked for: verify it (signature, statement, the runner's
 * capability) and pin it. Every manifest is new (its own task), so nothing
 * is served from a cache.
 * Target: put → fetched p95 < 50 ms.
 */
import { lpStream } from "@libp2p/utils";
import type { Libp2p } from "@libp2p/interface";
import { buildManifest, type BuiltManifest } from "../../protocol/artifacts/build.ts";
import { rawCid } from "../../protocol/artifacts/digest.ts";
import { RUN_LOG_MEDIA_TYPE } from "../../protocol/artifacts/run-log.ts";
import { fromUtf8, utf8 } from "../../protocol/bytes.ts";
import type { RunSpec } from "../../protocol/runner/runner.ts";
import { newTaskId } from "../../protocol/space/space.ts";
import { parseManifestCid } from "../../peer/artifacts/manifest-store.ts";
import { artifactPeer } from "../helpers/artifacts.ts";
import { dial } from "../helpers/nodes.ts";
import { percentile, report } from "./report.ts";

const BENCH = "artifacts-manifest";
const N = 200;
const WARM = 20;
const PROTOCOL = "/weft-bench/manifest/1.0.0";

const a = await artifactPeer();
const b = await artifactPeer();
const space = await a.node.createSpace("bench");
await dial(b, a);
await b.node.join(await a.node.invite(space.id, { audience: b.node.did }), { signal: AbortSignal.timeout(15_000) });

const spec: RunSpec = {
  runner: "wasm",
  program: rawCid("1".repeat(64)),
  args: ["--coverage"],
  inputs: [{ path: "src.tar", cid: rawCid("2".repeat(64)) }],
  env: [{ name: "CI", value: "1" }],
  limits: { wallMs: 600_000, memoryMb: 512, outputBytes: 1 << 30 },
};
const [chain] = space.authority.chainsFor(a.node.did, "/weft/run/wasm", Math.floor(Date.now() / 1000));

async function manifest(i: number): Promise<BuiltManifest & { task: string }> {
  const task = newTaskId();
  const sha256 = (i + 1).toString(16).padStart(64, "0");
  const output = { path: "coverage/index.html", size: 4096 + i, sha256, cid: rawCid(sha256) };
  const logSha256 = (i + 1).toString(16).padStart(64, "f");
  const log = { size: 512, sha256: logSha256, cid: rawCid(logSha256) };
  const now = Date.now();
  const built = await buildManifest(a.node.signer, chain, {
    space: space.id,
    task,
    spec,
    result: { status: "succeeded", exitCode: 0, outputs: [output], startedAt: now - 2000, endedAt: now - 1000 },
    outputs: [{ ...output, mediaType: "text/html", locations: [{ store: "local", node: a.node.did }] }],
    log: { ...log, mediaType: RUN_LOG_MEDIA_TYPE, locations: [{ store: "local", node: a.node.did }] },
  });
  return { ...built, task };
}

const FRESH = 50;
const total = 2 * (N + WARM) + FRESH;
const manifests = [];
for (let i = 0; i < total; i++) manifests.push(await manifest(i));
const size = manifests[0].bytes.length;

// The baseline: a request/response protocol on A serving the same bytes from memory.
const served = new Map<string, Uint8Array>();
const libA = a.node.libp2p as unknown as Libp2p;
const libB = b.node.libp2p as unknown as Libp2p;
await libA.handle(PROTOCOL, async (stream) => {
  const lp = lpStream(stream);
  const cid = fromUtf8((await lp.read()).subarray());
  await lp.write(served.get(cid) ?? new Uint8Array());
  await stream.close();
});

async function direct(m: BuiltManifest): Promise<void> {
  served.set(m.cid, m.bytes);
  const stream = await libB.dialProtocol(libA.peerId, PROTOCOL, { signal: AbortSignal.timeout(10_000) });
  const lp = lpStream(stream);
  await lp.write(utf8(m.cid));
  const bytes = (await lp.read()).subarray();
  await stream.close();
  if (bytes.length !== m.bytes.length) throw new Error("short answer");
}

async function fromMember(m: BuiltManifest & { task: string }): Promise<void> {
  await a.artifacts.manifests.put(m.bytes, { space: space.id, task: m.task });
  const bytes = await b.artifacts.manifests.get(parseManifestCid(m.cid), { signal: AbortSignal.timeout(10_000) });
  if (bytes.length !== m.bytes.length) throw new Error("short block");
}

async function verified(m: BuiltManifest & { task: string }): Promise<void> {
  await a.artifacts.manifests.put(m.bytes, { space: space.id, task: m.task });
  await b.artifacts.manifest(space.id, m.cid, AbortSignal.timeout(10_000));
}

const times = { weft: [] as number[], direct: [] as number[], verified: [] as number[] };
const held: string[] = [];
let next = 0;
for (let i = 0; i < N + WARM; i++) {
  const order = i % 2 === 0 ? ["weft", "direct"] as const : ["direct", "weft"] as const;
  for (const who of order) {
    const m = manifests[next++];
    const t = performance.now();
    await (who === "weft" ? fromMember(m) : direct(m));
    if (i >= WARM) times[who].push(performance.now() - t);
    if (who === "weft") held.push(m.cid);
  }
}
for (const [i, cid] of held.entries()) {
  // The blocks B fetched, now verified and pinned there (no transfer).
  const t = performance.now();
  await b.artifacts.manifest(space.id, cid);
  if (i >= WARM) times.verified.push(performance.now() - t);
}
const fresh = [] as number[];
for (let i = 0; i < FRESH; i++) {
  const t = performance.now();
  await verified(manifests[next++]);
  fresh.push(performance.now() - t);
}

await b.stop();
await a.stop();

const sorted = (xs: number[]) => [...xs].sort((x, y) => x - y);
const w = sorted(times.weft);
const d = sorted(times.direct);
const note = `${size}-byte manifest, n=${N}; baseline: direct libp2p request/response of the same bytes`;
report({
  bench: BENCH,
  metric: "put on A -> fetched on B by CID p50",
  value: percentile(w, 50),
  unit: "ms",
  baseline: percentile(d, 50),
  note,
});
report({
  bench: BENCH,
  metric: "put on A -> fetched on B by CID p95",
  value: percentile(w, 95),
  unit: "ms",
  baseline: percentile(d, 95),
  note: "target < 50 ms",
});
const v = sorted(times.verified);
report({
  bench: BENCH,
  metric: "verify + pin on B of a held manifest p50",
  value: percentile(v, 50),
  unit: "ms",
  note: "signature, statement, capability chain; the pin is fsynced",
});
report({ bench: BENCH, metric: "verify + pin on B of a held manifest p95", value: percentile(v, 95), unit: "ms" });
const f = sorted(fresh);
report({
  bench: BENCH,
  metric: "put on A -> fetched, verified and pinned on B p50",
  value: percentile(f, 50),
  unit: "ms",
  baseline: percentile(d, 50),
  note: `n=${f.length}; baseline: the direct request/response above`,
});
report({
  bench: BENCH,
  metric: "put on A -> fetched, verified and pinned on B p95",
  value: percentile(f, 95),
  unit: "ms",
  baseline: percentile(d, 95),
});
