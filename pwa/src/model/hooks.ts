/**
 * Re-rendering on the node's events. Sync can deliver thousands of task
 * changes in a burst, so events are coalesced: a component re-renders at
 * most once per frame-ish (40 ms), however many events arrived.
 */
import { useEffect, useState } from "preact/hooks";

/** A counter that changes whenever `subscribe`'s callback fires (coalesced). */
export function useEvents(subscribe: (fire: () => void) => () => void, deps: unknown[]): number {
  const [version, setVersion] = useState(0);
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const fire = () => {
      timer ??= setTimeout(() => {
        timer = undefined;
        setVersion((v) => v + 1);
      }, 40);
    };
    const off = subscribe(fire);
    return () => {
      off();
      clearTimeout(timer);
    };
  }, deps);
  return version;
}

/** Re-render every `ms` (for clocks: lease countdowns, connection state, expiring adverts). */
export function useTick(ms: number): number {
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => setTick((t) => t + 1), ms);
    return () => clearInterval(timer);
  }, [ms]);
  return tick;
}
