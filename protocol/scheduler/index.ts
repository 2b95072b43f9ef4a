/** The scheduler every node runs: placement, leases, crash counts, pods, run logs, and the compute set-up shells share. */
export * from "./compute.ts";
export * from "./crashes.ts";
export * from "./network-grant.ts";
export * from "./placement.ts";
export * from "./pods.ts";
export * from "./run-log-buffer.ts";
export * from "./run-log-service.ts";
export * from "./scheduler.ts";
