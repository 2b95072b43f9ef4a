/** The scheduler every node runs: placement, leases, crash counts, pods and run logs. */
export * from "./crashes.ts";
export * from "./placement.ts";
export * from "./pods.ts";
export * from "./run-log-buffer.ts";
export * from "./run-log-service.ts";
export * from "./scheduler.ts";
