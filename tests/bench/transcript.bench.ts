/**
 * `transcript`: an agent's live transcript followed from another peer. Agent
 * `reader` runs on peer b, driven by the recorded model
 * (tests/fixtures/agent-loop/read-big-then-think.json — a scripted server
 * replaying a recorded conversation, not a live model: 19 turns, 40
 * entries, 18 of them 48 KB file reads). Two followers start before it has
 * a task: one on b's own API (the baseline: the same events, no relay), one
 * on peer a's API by DID, which a reads from b over /weft/transcript/1.
 * Figures: each entry's delay from being said on b (its `at`) to arriving
 * at each follower, median and p95; then a whole read of the finished
 * transcript (its newest 256 KiB) through a against through b.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TranscriptEvent } from "#protocol/agents";
import { joinPeer, type PeerProcess, startPeer, stopPeer, weft } from "../helpers/peer-process.ts";
import { startRecordedModel } from "../helpers/recorded-model-server.ts";
import { llmToml, LOOP_FIXTURES, peerWith, seedDemoRepo, userGit, weftJson } from "../helpers/agent-loop-rig.ts";
import { eventually } from "../helpers/nodes.ts";
import { percentile, report } from "./report.ts";

const BENCH = "transcript";
const ENTRIES = 40;
const READS = 5;
const enc = encodeURIComponent;

const model = await startRecordedModel(join(LOOP_FIXTURES, "read-big-then-think.json"));
const work = await mkdtemp(join(tmpdir(), "weft-transcript-bench-"));
const b = await peerWith(llmToml(model.url, "recorded-reader"));
let a: PeerProcess | undefined;
const stops: AbortController[] = [];

/** Follow `path` on `p`, noting when each entry arrives (ms after it was said on b). */
function follow(p: PeerProcess, path: string) {
  const delays = new Map<number, number>();
  const stop = new AbortController();
  stops.push(stop);
  void (async () => {
    for await (const e of (await p.api()).lines<TranscriptEvent>(path, stop.signal)) {
      if (e.type === "entry") delays.set(e.n, Date.now() - e.at);
    }
  })().catch(() => {});
  return delays;
}

const stats = (m: Map<number, number>) => {
  const sorted = [...m.values()].sort((x, y) => x - y);
  return {
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    mean: sorted.reduce((x, y) => x + y, 0) / sorted.length,
  };
};

try {
  a = await startPeer();
  const space = JSON.parse(await weft(b, "space", "list", "--json")).spaces[0].id as string;
  await joinPeer(b, a, space);
  await seedDemoRepo(work, b, space);
  const clone = join(work, "demo");
  await writeFile(join(clone, "big.txt"), "0123456789abcdef".repeat(3 * 1024));
  await userGit(work, b, clone, "add", "big.txt");
  await userGit(work, b, clone, "commit", "-q", "-m", "a big file");
  await userGit(work, b, clone, "push", "-q", "origin", "HEAD:refs/heads/main");
  const did = (await weftJson<{ did: string }>(
    b,
    ...["agent", "add", "reader", "--labels", "bug", "--budget", "50usd", "--runners", "container", "--run"],
    ...["--space", space],
  )).did;
  const apiA = await a.api();
  await eventually(
    async () =>
      (await apiA.get<{ delegations: unknown[] }>(`/v1/spaces/${enc(space)}/agents/${enc(did)}`)).delegations.length >
        0,
    120_000,
    "the agent's delegations on a",
  );
  const path = (query = "") => `/v1/spaces/${enc(space)}/agents/${enc(did)}/transcript${query}`;
  const local = follow(b, path("?follow=true"));
  const remote = follow(a, path("?follow=true"));
  await weftJson(b, "task", "add", "look at the big file", "--label", "bug", "--label", "repo:demo", "--space", space);
  await eventually(async () => await model.requests() >= 2, 240_000, "the held second call");
  await model.release();
  await eventually(() => local.size >= ENTRIES && remote.size >= ENTRIES, 300_000, "every entry on both");
  const l = stats(local), r = stats(remote);
  const note = "entry said on b → arrived at the follower; baseline: b's own API (no relay)";
  report({ bench: BENCH, metric: "delay-p50", value: r.p50, unit: "ms", baseline: l.p50, note });
  report({ bench: BENCH, metric: "delay-p95", value: r.p95, unit: "ms", baseline: l.p95, note });
  report({ bench: BENCH, metric: "delay-mean", value: r.mean, unit: "ms", baseline: l.mean, note });

  // A whole read of the finished transcript (its newest 256 KiB), through a and through b.
  const readAll = async (p: PeerProcess) => {
    const api = await p.api();
    let bytes = 0;
    const t0 = performance.now();
    for (let i = 0; i < READS; i++) bytes += (await (await api.raw("GET", path())).arrayBuffer()).byteLength;
    return { ms: (performance.now() - t0) / READS, bytes: bytes / READS };
  };
  const viaB = await readAll(b);
  const viaA = await readAll(a);
  report({
    bench: BENCH,
    metric: "read-whole",
    value: viaA.ms,
    unit: "ms",
    baseline: viaB.ms,
    note: `${Math.round(viaA.bytes / 1024)} KiB a read, through a over /weft/transcript/1; baseline: through b`,
  });
} finally {
  for (const s of stops) s.abort();
  model.stop();
  await Promise.all([a, b].map((p) => p && stopPeer(p)));
  await rm(work, { recursive: true, force: true });
}
