/**
 * Placement: which live nodes may run a task, and in what order of
 * preference. Every node computes the same ranking from the same adverts,
 * so the best-ranked node claims at once and the others wait in rank
 * order — no central scheduler, and no coordination beyond gossip.
 *
 * Eligibility is strict: the runner kind, cores, memory, gpus and every tag
 * selector must fit, and the node must have a free slot. The score prefers
 * idle nodes, free slots and free memory, and keeps GPU nodes for GPU work.
 * Near-equal scores are broken by a hash of (task, node), so a burst of
 * similar tasks spreads over similar nodes instead of piling onto one.
 *
 * `assign` places every waiting job at once, the way every node would:
 * oldest first, each to the best node with a slot left after the jobs it
 * holds and the jobs placed before. A node counts its slots from its
 * advert's total (free + running), which stays put while it takes jobs, and
 * the jobs it holds from the shared task state — so the assigned node's
 * claim changes no other node's answer, and a burst goes out over the mesh
 * with one claim per job instead of every node racing for each one.
 */
import type { LiveAdvert } from "../capacity/advert.ts";
import type { Requirements } from "../tasks/state.ts";
import type { RunSpec } from "../runner/runner.ts";

/** What a task needs, with the run spec's own runner and memory limit folded in. */
export interface Need {
  runner?: string;
  cpu: number;
  memoryMb: number;
  gpu: number;
  tags: readonly string[];
}

export function needOf(task: { requirements: Requirements; run?: RunSpec }): Need {
  const r = task.requirements;
  const runner = r.runner ?? task.run?.runner;
  return {
    ...(runner !== undefined ? { runner } : {}),
    cpu: r.cpu ?? 0,
    memoryMb: r.memoryMb ?? task.run?.limits.memoryMb ?? 0,
    gpu: r.gpu ?? 0,
    tags: r.tags ?? [],
  };
}

/** An advert's tags as `name -> value` ("" for a bare tag), parsed once per advert. */
const tagIndex = new WeakMap<LiveAdvert, Map<string, string>>();

function tagsOf(advert: LiveAdvert): Map<string, string> {
  let map = tagIndex.get(advert);
  if (!map) {
    map = new Map();
    for (const tag of advert.tags) {
      const eq = tag.indexOf("=");
      if (eq < 0) map.set(tag, "");
      else map.set(tag.slice(0, eq), tag.slice(eq + 1));
    }
    if (advert.gpus > 0 && !map.has("gpu")) map.set("gpu", "");
    if (advert.ephemeral && !map.has("ephemeral")) map.set("ephemeral", "");
    // Every node is `node=<its DID>`, so a task can be pinned to one (reproducing a build on chosen nodes).
    map.set("node", advert.node);
    tagIndex.set(advert, map);
  }
  return map;
}

/** Does the advert satisfy one selector: `name`, `name=value`, `!name` or `!name=value`? */
export function matchesSelector(advert: LiveAdvert, selector: string): boolean {
  const tags = tagsOf(advert);
  if (selector.startsWith("!")) return !matchesSelector(advert, selector.slice(1));
  const eq = selector.indexOf("=");
  if (eq < 0) return tags.has(selector);
  return tags.get(selector.slice(0, eq)) === selector.slice(eq + 1);
}

/** Why `advert` cannot take a task needing `need` whatever its free slots, or undefined if it can. */
function unfit(need: Need, advert: LiveAdvert): string | undefined {
  if (need.runner !== undefined && !advert.runners.includes(need.runner)) return `no ${need.runner} runner`;
  if (advert.cpu.cores < need.cpu) return `${advert.cpu.cores} cores < ${need.cpu}`;
  if (advert.memoryMb.total < need.memoryMb) return `${advert.memoryMb.total} MB < ${need.memoryMb} MB`;
  if (advert.gpus < need.gpu) return `${advert.gpus} gpus < ${need.gpu}`;
  for (const selector of need.tags) if (!matchesSelector(advert, selector)) return `tag ${selector} does not match`;
  return undefined;
}

/** Why `advert` cannot take a task needing `need`, or undefined if it can. */
export function ineligibility(need: Need, advert: LiveAdvert): string | undefined {
  return unfit(need, advert) ?? (advert.slots <= 0 ? "no free slot" : undefined);
}

/** 32-bit FNV-1a of a string. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

const nodeHashes = new Map<string, number>();

/** The deterministic tie-break in [0, 1): (task, node) hashed, each string hashed once. */
function tieBreak(taskHash: number, node: string): number {
  let n = nodeHashes.get(node);
  if (n === undefined) {
    if (nodeHashes.size > 100_000) nodeHashes.clear();
    nodeHashes.set(node, n = fnv1a(node));
  }
  // murmur3's finalizer over the combined hashes.
  let h = (taskHash ^ Math.imul(n, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) / 0x1_0000_0000;
}

/**
 * How good a home `advert` is for `need`; higher is better. Assumes it is
 * eligible. `free` and `running` default to the advert's own.
 */
export function fitScore(need: Need, advert: LiveAdvert, free = advert.slots, running = advert.running): number {
  const cores = Math.max(1, advert.cpu.cores);
  const idle = 1 - Math.min(1, advert.cpu.load / cores);
  const slots = free / (free + running);
  const total = Math.max(1, advert.memoryMb.total);
  const memory = Math.min(1, Math.max(0, (advert.memoryMb.free - need.memoryMb) / total));
  // Keep scarce GPUs for GPU work: a node with GPUs is a worse home for a job that needs none.
  const gpuWaste = need.gpu === 0 && advert.gpus > 0 ? 1 : 0;
  return 2 * idle + slots + memory - 1.5 * gpuWaste;
}

/** Scores within this of each other count as equal; the tie-break decides. */
const SCORE_STEP = 0.25;

/** The sort key of `advert` for this task: the score, quantized, plus the tie-break. */
function keyOf(
  taskHash: number,
  need: Need,
  advert: LiveAdvert,
  free = advert.slots,
  running = advert.running,
): number {
  return Math.floor(fitScore(need, advert, free, running) / SCORE_STEP) + tieBreak(taskHash, advert.node);
}

/** Is (ka, a) ranked before (kb, b)? Equal keys fall back to the node DID. */
const before = (ka: number, a: LiveAdvert, kb: number, b: LiveAdvert) => ka > kb || (ka === kb && a.node < b.node);

/** Eligible adverts for `need`, best first. Deterministic for the same (task, adverts). */
export function rank(taskId: string, need: Need, adverts: Iterable<LiveAdvert>): LiveAdvert[] {
  const out: { advert: LiveAdvert; key: number }[] = [];
  const th = fnv1a(taskId);
  for (const advert of adverts) {
    if (ineligibility(need, advert) === undefined) out.push({ advert, key: keyOf(th, need, advert) });
  }
  out.sort((a, b) => (before(a.key, a.advert, b.key, b.advert) ? -1 : 1));
  return out.map((r) => r.advert);
}

/** The best-ranked eligible advert (one pass, no sort), or undefined if none is eligible. */
export function best(taskId: string, need: Need, adverts: Iterable<LiveAdvert>): LiveAdvert | undefined {
  let top: LiveAdvert | undefined;
  let topKey = -Infinity;
  const th = fnv1a(taskId);
  for (const advert of adverts) {
    if (ineligibility(need, advert) !== undefined) continue;
    const key = keyOf(th, need, advert);
    if (!top || before(key, advert, topKey, top)) {
      top = advert;
      topKey = key;
    }
  }
  return top;
}

/**
 * Where `node` stands for this task: its 0-based rank among eligible live
 * nodes, or -1 if it is not eligible. Counts better nodes without sorting.
 */
export function rankOf(taskId: string, need: Need, adverts: Iterable<LiveAdvert>, node: string): number {
  let mine: LiveAdvert | undefined;
  const eligible: LiveAdvert[] = [];
  for (const advert of adverts) {
    if (ineligibility(need, advert) !== undefined) continue;
    eligible.push(advert);
    if (advert.node === node) mine = advert;
  }
  if (!mine) return -1;
  const th = fnv1a(taskId);
  const myKey = keyOf(th, need, mine);
  let better = 0;
  for (const a of eligible) if (a !== mine && before(keyOf(th, need, a), a, myKey, mine)) better++;
  return better;
}

/** A job waiting for a node. */
export interface WaitingJob {
  id: string;
  need: Need;
}

/**
 * Where each waiting job goes (job id -> node DID), given `jobs` oldest
 * first, the live `adverts`, and how many jobs each node holds now (claimed
 * or running, by node DID). Deterministic for the same inputs. A job no
 * node has a slot left for is not placed: it waits for one.
 */
export function assign(
  jobs: Iterable<WaitingJob>,
  adverts: Iterable<LiveAdvert>,
  held: ReadonlyMap<string, number>,
): Map<string, string> {
  const nodes = [...adverts].map((advert) => {
    const total = advert.slots + advert.running;
    return { advert, total, left: Math.max(0, total - (held.get(advert.node) ?? 0)) };
  });
  let left = nodes.reduce((sum, n) => sum + n.left, 0);
  const out = new Map<string, string>();
  for (const job of jobs) {
    if (left === 0) break;
    const th = fnv1a(job.id);
    let top: (typeof nodes)[number] | undefined;
    let topKey = -Infinity;
    for (const n of nodes) {
      if (n.left === 0 || unfit(job.need, n.advert) !== undefined) continue;
      const key = keyOf(th, job.need, n.advert, n.left, n.total - n.left);
      if (!top || before(key, n.advert, topKey, top.advert)) {
        top = n;
        topKey = key;
      }
    }
    if (!top) continue;
    top.left--;
    left--;
    out.set(job.id, top.advert.node);
  }
  return out;
}
