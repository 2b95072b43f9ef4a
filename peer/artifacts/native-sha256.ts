/**
 * The peer's incremental sha-256: node:crypto (hardware SHA extensions,
 * about ten times the portable hasher), behind the protocol's interface.
 */
import { createHash } from "node:crypto";
import type { Sha256Factory } from "#protocol/artifacts";

export const nativeSha256: Sha256Factory = () => {
  const h = createHash("sha256");
  return {
    update: (chunk) => void h.update(chunk),
    hex: () => h.digest("hex"),
  };
};
