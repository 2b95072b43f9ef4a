/** What every view reaches for: the browser node, and a way to tell the user what happened. */
import { createContext } from "preact";
import { useContext, useRef, useState } from "preact/hooks";
import type { BrowserNode } from "../node/browser-node.ts";
import type { Space } from "#protocol/space";
import { useEvents } from "../model/hooks.ts";

export interface Notice {
  text: string;
  error?: boolean;
}

export interface AppContext {
  bn: BrowserNode;
  notify(notice: Notice): void;
}

export const AppCtx = createContext<AppContext | undefined>(undefined);

export function useApp(): AppContext {
  const ctx = useContext(AppCtx);
  if (!ctx) throw new Error("useApp outside the app");
  return ctx;
}

/** Re-render when the space's tasks, members or name change; returns a version for memos. */
export function useSpace(space: Space): number {
  return useEvents((fire) => space.subscribe(fire), [space]);
}

/**
 * Run a write and report it: success as a status message, a refusal (the
 * verifier's or the reducer's) as an alert with its reason. `busy` is true
 * while it runs, for disabling the control that started it; until then
 * (and before the disabled state is even rendered) further runs are
 * ignored, so a double click signs one operation, not two.
 */
export function useAction(): { busy: boolean; run(work: () => Promise<unknown>, done?: string): Promise<boolean> } {
  const { notify } = useApp();
  const [busy, setBusy] = useState(false);
  const pending = useRef(false);
  return {
    busy,
    async run(work, done) {
      if (pending.current) return false;
      pending.current = true;
      setBusy(true);
      try {
        await work();
        if (done) notify({ text: done });
        return true;
      } catch (e) {
        notify({ text: (e as Error).message, error: true });
        return false;
      } finally {
        pending.current = false;
        setBusy(false);
      }
    },
  };
}
