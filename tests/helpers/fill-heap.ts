/**
 * Fill this thread's JavaScript heap until its limit ends the thread (for
 * tests of a worker's heap limit). Large arrays reach the limit in a few
 * steps; many small objects can leave V8 collecting garbage near the limit
 * for minutes on a loaded machine before it gives up.
 */
export function fillHeap(): never {
  const kept: number[][] = [];
  for (;;) kept.push(new Array<number>(1 << 20).fill(kept.length + 0.5));
}
