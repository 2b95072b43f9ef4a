/**
 * Placement throughput: 10,000 queued tasks placed over the adverts of
 * 1,000 nodes, each decision taking the best-ranked eligible node and
 * using up one of its slots — against an in-memory first-fit (the first
 * node in list order that fits) on the same data in the same run.
 * Target: >= 5,000 decisions/s.
 */
import type { LiveAdvert } from "../../protocol/capacity/advert.ts";
import { best, ineligibility, type Need } from "../../protocol/scheduler/placement.ts";
import { report } from "./report.ts";

const BENCH = "placement";
const NODES = 1000;
const TASKS = 10_000;

/** A small deterministic PRNG, so every run places the same workload. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function makeAdverts(): LiveAdvert[] {
  const rand = prng(1);
  return Array.from({ length: NODES }, (_, i) => {
    const cores = [2, 4, 8, 16, 64][Math.floor(rand() * 5)];
    const total = cores * 2048;
    return {
      node: `did:key:z6Mk${i.toString(36).padStart(8, "0")}`,
      at: 0,
      expires: 1e15,
      cpu: { cores, load: Math.round(rand() * cores * 100) / 100 },
      memoryMb: { total, free: Math.floor(total * rand()) },
      gpus: rand() < 0.05 ? 1 + Math.floor(rand() * 4) : 0,
      runners: rand() < 0.8 ? ["wasm", "nix"] : ["wasm"],
      tags: [`region=${rand() < 0.5 ? "eu" : "us"}`, `arch=${rand() < 0.7 ? "x64" : "arm64"}`],
      version: "bench",
      running: 0,
      slots: 6 + Math.floor(rand() * 12),
      ttl: 90,
    };
  });
}

function makeNeeds(): Need[] {
  const rand = prng(2);
  return Array.from({ length: TASKS }, () => {
    const r = rand();
    if (r < 0.1) return { runner: "wasm", cpu: 1, memoryMb: 1024, gpu: 1, tags: [] };
    if (r < 0.2) return { runner: "nix", cpu: 2, memoryMb: 2048, gpu: 0, tags: ["region=eu"] };
    if (r < 0.3) return { runner: "wasm", cpu: 8, memoryMb: 16384, gpu: 0, tags: ["arch=x64", "!ephemeral"] };
    return { runner: "wasm", cpu: 1, memoryMb: 256, gpu: 0, tags: [] };
  });
}

function take(a: LiveAdvert): void {
  a.slots--;
  a.running++;
}

/** Place every task; returns decisions per second and how many found a node. */
function run(place: (id: string, need: Need, adverts: LiveAdvert[]) => LiveAdvert | undefined) {
  const adverts = makeAdverts();
  const needs = makeNeeds();
  const start = performance.now();
  let placed = 0;
  for (let i = 0; i < needs.length; i++) {
    const a = place(`task${i}`, needs[i], adverts);
    if (a) {
      take(a);
      placed++;
    }
  }
  const seconds = (performance.now() - start) / 1000;
  return { perSecond: needs.length / seconds, placed };
}

const firstFit = (_id: string, need: Need, adverts: LiveAdvert[]) =>
  adverts.find((a) => ineligibility(need, a) === undefined);

// Alternate, and keep each one's best of three: the machine is shared and noisy.
let ours = { perSecond: 0, placed: 0 };
let baseline = { perSecond: 0, placed: 0 };
for (let round = 0; round < 3; round++) {
  const o = run(best);
  const b = run(firstFit);
  if (o.perSecond > ours.perSecond) ours = o;
  if (b.perSecond > baseline.perSecond) baseline = b;
}
report({
  bench: BENCH,
  metric: "decisions/s (10k tasks, 1k nodes)",
  value: ours.perSecond,
  unit: "decisions/s",
  baseline: baseline.perSecond,
  note: "baseline: first-fit over the same adverts; target >= 5000/s",
});
report({ bench: BENCH, metric: "tasks placed", value: ours.placed, unit: "tasks", baseline: baseline.placed });
