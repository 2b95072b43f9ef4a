/**
 * Benchmark output: one JSON line per figure,
 * {"bench","metric","value","unit","baseline","ratio"}, where baseline is a
 * comparable figure measured in the same run and ratio = value / baseline.
 */
import process from "node:process";

export interface Figure {
  bench: string;
  metric: string;
  value: number;
  unit: string;
  baseline?: number | null;
  /** Optional note, e.g. what the baseline is or the target. */
  note?: string;
}

const round = (x: number) => (Math.abs(x) >= 100 ? Math.round(x) : Math.round(x * 1000) / 1000);

export function report(f: Figure): void {
  const baseline = f.baseline ?? null;
  const ratio = baseline ? round(f.value / baseline) : null;
  console.log(JSON.stringify({
    bench: f.bench,
    metric: f.metric,
    value: round(f.value),
    unit: f.unit,
    baseline: baseline === null ? null : round(baseline),
    ratio,
    ...(f.note ? { note: f.note } : {}),
  }));
}

/** Run `fn` repeatedly for about `ms` milliseconds (after a warm-up); returns operations per second. */
export async function opsPerSecond(fn: () => unknown | Promise<unknown>, ms = 1500): Promise<number> {
  const warmUntil = performance.now() + Math.min(300, ms / 4);
  while (performance.now() < warmUntil) await fn();
  let n = 0;
  const start = performance.now();
  const end = start + ms;
  while (performance.now() < end) {
    await fn();
    n++;
  }
  return n / ((performance.now() - start) / 1000);
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

/**
 * Measure several functions in alternating rounds and return each one's
 * median ops/s, so that drift in machine speed hits all of them alike.
 */
export async function interleaved<K extends string>(
  fns: Record<K, () => unknown | Promise<unknown>>,
  rounds = 7,
  ms = 400,
): Promise<Record<K, number>> {
  const samples = {} as Record<K, number[]>;
  for (const k of Object.keys(fns) as K[]) samples[k] = [];
  for (let r = 0; r < rounds; r++) {
    for (const k of Object.keys(fns) as K[]) samples[k].push(await opsPerSecond(fns[k], ms));
  }
  const out = {} as Record<K, number>;
  for (const k of Object.keys(fns) as K[]) out[k] = percentile(samples[k].sort((a, b) => a - b), 50);
  return out;
}

/**
 * This process's CPU time so far (user + system), in ms. On a machine
 * others share, the CPU a piece of work took is steadier than its wall
 * time; a difference of two readings brackets the work.
 */
export function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}
