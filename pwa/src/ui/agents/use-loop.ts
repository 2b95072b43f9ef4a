/**
 * The live state of an agent's loop, followed through the peer that served
 * this page for as long as the card shows it (model/agent-loop.ts says why
 * it comes from a peer and not the space, and how that peer reaches the one
 * running the agent). A stream that breaks is followed again after a short
 * wait. A page no peer served, or no peer that runs the agent, says so.
 */
import { useEffect, useState } from "preact/hooks";
import { messageOf } from "#protocol";
import type { Space } from "#protocol/space";
import { followLoop, type LoopView } from "../../model/agent-loop.ts";
import { servingPeer } from "../../node/peer-url.ts";
import { useApp } from "../context.ts";

/** How long to wait before following again after the stream broke. */
const RETRY_MS = 3000;

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
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const follow = async () => {
      try {
        served ??= servingPeer(location);
        if (!(await served)) {
          served = undefined;
          setState({ state: "unavailable", why: "no Weft peer served this page, and only the agent's peer knows" });
          return;
        }
        await followLoop(
          { did: bn.did, signer: bn.node.signer },
          space,
          location.origin,
          did,
          (loop) => setState(loop ? { state: "shown", loop } : { state: "none" }),
          controller.signal,
        );
      } catch (e) {
        if (controller.signal.aborted) return;
        setState({ state: "unavailable", why: messageOf(e) });
      }
      if (!controller.signal.aborted) timer = setTimeout(follow, RETRY_MS);
    };
    void follow();
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [space.id, did, watch]);
  return state;
}
