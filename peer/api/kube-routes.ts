/**
 * The handlers of `/v1/kube/nodes` (route-table/kube.ts): the virtual nodes
 * this peer's bridges run in their clusters, as each cluster sees them, and
 * cordoning or uncordoning one through its cluster's API.
 */
import type { VirtualNodes } from "../../bridges/kubernetes/bridge.ts";
import type { Handler } from "./dispatch.ts";
import { HttpError } from "./errors.ts";

export function kubeHandlers(nodes: VirtualNodes | undefined): Record<string, Handler> {
  const cordon = (cordoned: boolean): Handler => async (c, { params }) => {
    const report = await nodes?.cordon(params.name, cordoned);
    if (!report) {
      throw new HttpError(404, "not-found", `this peer runs no virtual node ${params.name}; see weft kube node status`);
    }
    return c.json(report);
  };
  return {
    "GET /v1/kube/nodes": async (c) => c.json({ nodes: (await nodes?.list()) ?? [] }),
    "POST /v1/kube/nodes/:name/cordon": cordon(true),
    "POST /v1/kube/nodes/:name/uncordon": cordon(false),
  };
}
