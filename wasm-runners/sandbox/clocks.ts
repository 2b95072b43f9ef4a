/**
 * wasi:clocks and wasi:io/poll for a job. The monotonic clock starts at zero
 * when the job starts (it says nothing about the host's uptime); the wall
 * clock is frozen at the time the run spec grants (see spec.ts), so a job
 * cannot learn the real date. Waiting is synchronous — the component runs
 * synchronously in its own worker or process — with Atomics.wait where
 * SharedArrayBuffer exists, else by spinning; the wall-time limit still
 * applies, because the runner kills the whole process.
 */
import { poll as shimPoll, pollableCreate } from "./shim.ts";

type Pollable = ReturnType<typeof pollableCreate>;

const NS_PER_MS = 1_000_000;

function sleepMs(ms: number): void {
  if (ms <= 0) return;
  if (typeof SharedArrayBuffer === "function") {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
    return;
  }
  const until = performance.now() + ms;
  while (performance.now() < until) { /* no way to block without shared memory */ }
}

export function jobClocks(wallClockSeconds: number) {
  const origin = performance.now();
  const elapsedMs = () => performance.now() - origin;
  /** Deadlines (ms since origin) of the pollables the clock created. */
  const deadlines = new WeakMap<Pollable, number>();

  const timer = (deadlineMs: number): Pollable => {
    const p = pollableCreate({
      ready: () => elapsedMs() >= deadlineMs,
      wait: () => new Promise((resolve) => setTimeout(resolve, Math.max(0, deadlineMs - elapsedMs()))),
    });
    deadlines.set(p, deadlineMs);
    Object.defineProperty(p, "block", { value: () => sleepMs(deadlineMs - elapsedMs()) });
    return p;
  };

  const monotonicClock = {
    now: (): bigint => BigInt(Math.floor(elapsedMs() * NS_PER_MS)),
    resolution: (): bigint => BigInt(NS_PER_MS),
    subscribeInstant: (when: bigint): Pollable => timer(Number(when) / NS_PER_MS),
    subscribeDuration: (duration: bigint): Pollable => timer(elapsedMs() + Number(duration) / NS_PER_MS),
  };

  const wallClock = {
    now: () => ({ seconds: BigInt(wallClockSeconds), nanoseconds: 0 }),
    resolution: () => ({ seconds: 1n, nanoseconds: 0 }),
  };

  /** Block until at least one is ready; only the clock's pollables can make a caller wait. */
  const pollList = (list: Pollable[]): Uint32Array => {
    if (list.length === 0) throw new Error("poll: the list is empty");
    for (;;) {
      const ready: number[] = [];
      list.forEach((p, i) => p.ready() && ready.push(i));
      if (ready.length > 0) return new Uint32Array(ready);
      const waits = list.map((p) => deadlines.get(p)).filter((d): d is number => d !== undefined);
      if (waits.length === 0) throw new Error("poll: nothing in the list can ever become ready");
      sleepMs(Math.min(...waits) - elapsedMs());
    }
  };

  return { monotonicClock, wallClock, poll: { Pollable: shimPoll.Pollable, poll: pollList } };
}
