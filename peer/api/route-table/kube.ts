import { Commands } from "#protocol/ucan";
import type { RouteDef } from "./def.ts";
import { q } from "./def.ts";

/**
 * The Kubernetes virtual nodes this peer runs (kube-routes.ts serves them;
 * `weft kube node …` calls them): how each stands in its cluster, with its
 * pods' mesh jobs, for anyone who may read the node; cordoning and
 * uncordoning, which change the cluster, for its admins.
 */
export const KUBE_ROUTES: RouteDef[] = [
  {
    method: "GET",
    path: "/v1/kube/nodes",
    summary:
      "The virtual nodes this peer runs in clusters: Ready, cordoned, Lease age, capacity, and each pod with its mesh job and the member running it",
    auth: q(Commands.nodeRead, "node"),
  },
  {
    method: "POST",
    path: "/v1/kube/nodes/:name/cordon",
    summary: "Cordon a virtual node this peer runs: its cluster binds no new pods to it (those running stay)",
    auth: q(Commands.nodeAdmin, "node"),
  },
  {
    method: "POST",
    path: "/v1/kube/nodes/:name/uncordon",
    summary: "Uncordon a virtual node this peer runs: its cluster may bind pods to it again",
    auth: q(Commands.nodeAdmin, "node"),
  },
];
