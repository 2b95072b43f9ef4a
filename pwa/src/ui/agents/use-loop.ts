/**
 * The live state of an agent's loop, asked of the peer that served this
 * page every couple of seconds while the page is visible (model/agent-loop.ts
 * says why it comes from a peer and not the space). A page no peer served,
 * or a peer that does not run the agent, says so instead.
 */
import { useEffect, useState } from "preact/hooks";
import { messageOf } from "#protocol";
import type { Space } from "#protocol/space";
import { fetchLoop, type LoopView } from "../../model/agent-loop.ts";
import { servingPeer } from "../../node/peer-url.ts";
import { useApp } from "../context.ts";

const POLL_MS = 1500;

export type LoopState =
  | { state: "asking" }
  | { state: "shown"; loop: LoopView }
  | { state: "none" }
  | { state: "unavailable"; why: string };

/** Whether a peer served this page, asked once per load. */
let served: Promise<string | undefined> | undefined;

export function useLoop(space: Space, did: string, watch: boolean): LoopState {
  const { bn } = useApp();
  const [state, setState] = useState<LoopState>({ state: "asking" });
  useEffect(() => {
    if (!watch) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const controller = new AbortController();
    const ask = async () => {
      try {
        served ??= servingPeer(location);
        if (!(await served)) {
          served = undefined;
          setState({ state: "unavailable", why: "no Weft peer served this page, and only the agent's peer knows" });
        } else if (!document.hidden) {
          const loop = await fetchLoop(
            { did: bn.did, signer: bn.node.signer },
            space,
            location.origin,
            did,
            controller.signal,
          );
          if (!stopped) setState(loop ? { state: "shown", loop } : { state: "none" });
        }
      } catch (e) {
        if (!stopped) setState({ state: "unavailable", why: messageOf(e) });
      }
      if (!stopped) timer = setTimeout(ask, POLL_MS);
    };
    void ask();
    return () => {
      stopped = true;
      clearTimeout(timer);
      controller.abort();
    };
  }, [space.id, did, watch]);
  return state;
}
