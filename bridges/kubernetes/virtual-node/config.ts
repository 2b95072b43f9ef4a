/**
 * `[bridges.kubernetes.virtual_node]` in weft.toml: the peer's kubernetes
 * bridge also makes the mesh a node of its cluster (`weft-<space>`), whose
 * pods become container jobs of that space, run by whichever member's
 * container runner the mesh places them on. Which space, the capacity the
 * Node offers, where the API server reaches its log endpoint, the CA of the
 * API server's kubelet client certificate (only the API server may read pod
 * logs), its own serving certificate (absent: a self-signed one in the
 * bridge's directory), the Lease's duration and whether pods may have the
 * network. Checked at the boundary, defaults filled in.
 */
import { bool, int, InvalidInput, object, optional, required, str } from "#protocol/schema";

export interface VirtualNodeConfig {
  /** The space (its name or DID) whose container jobs run the pods; the Node is `weft-<its name>`. */
  space: string;
  cpu: number;
  memoryMb: number;
  pods: number;
  /** Where its log endpoint listens and the API server reaches it. */
  address: string;
  port: number;
  clientCa: string;
  tlsCert?: string;
  tlsKey?: string;
  leaseSeconds: number;
  /** Let pods have the network where no NetworkPolicy restricts their egress (the job still needs the creator's grant). */
  network: boolean;
}

const shape = object({
  space: required(str(1, 256)),
  cpu: optional(int(1, 100_000)),
  memory_mb: optional(int(64, 1 << 30)),
  pods: optional(int(1, 10_000)),
  address: optional(str(1, 253, /^[A-Za-z0-9.:-]+$/)),
  port: optional(int(0, 65_535)),
  client_ca: required(str(1, 4096)),
  tls_cert: optional(str(1, 4096)),
  tls_key: optional(str(1, 4096)),
  lease_seconds: optional(int(4, 3600)),
  network: optional(bool),
});

/** Read the table; errors name the key under `where`. */
export function parseVirtualNodeConfig(raw: unknown, where: string): VirtualNodeConfig {
  const c = shape(raw, where);
  if ((c.tls_cert === undefined) !== (c.tls_key === undefined)) {
    throw new InvalidInput(`${where}.tls_key`, "tls_cert and tls_key go together: give both, or neither");
  }
  return {
    space: c.space,
    cpu: c.cpu ?? 4,
    memoryMb: c.memory_mb ?? 8192,
    pods: c.pods ?? 8,
    address: c.address ?? "127.0.0.1",
    port: c.port ?? 10250,
    clientCa: c.client_ca,
    ...(c.tls_cert !== undefined ? { tlsCert: c.tls_cert, tlsKey: c.tls_key } : {}),
    leaseSeconds: c.lease_seconds ?? 40,
    network: c.network ?? false,
  };
}
