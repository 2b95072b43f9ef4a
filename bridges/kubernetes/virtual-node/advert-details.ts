/**
 * The virtual node as the kubernetes bridge's advert carries it, beside the
 * cluster's spare capacity (the kubernetes runner's details), so every
 * member's Clusters view shows it: its Node's name, what it offers (its
 * capacity, which is also its allocatable), the pods it runs now and its
 * health — renewed within its Lease, and when last. Flat and small, as
 * advert details must be (16 keys in all, the runner's included).
 */
import type { VirtualNodeStatus } from "./virtual-node.ts";

export function virtualNodeDetails(s: VirtualNodeStatus): Record<string, string | number | boolean> {
  return {
    virtualNode: s.name,
    vnCapacity: `cpu=${s.offer.cpu},memoryMb=${s.offer.memoryMb},pods=${s.offer.pods}`,
    vnRunning: s.running,
    vnReady: s.ready,
    ...(s.renewedAt !== undefined ? { vnRenewedAt: s.renewedAt } : {}),
  };
}
