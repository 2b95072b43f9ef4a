/** Test principals and delegation chains, built with the real signing code. */
import { generateSeed, type Signer, signerFromSeed } from "../../protocol/identity/ed25519.ts";
import { decodeDelegation, delegate, type Delegation } from "../../protocol/ucan/delegation.ts";
import { decodeContainer } from "../../protocol/ucan/container.ts";
import type { Ipld } from "../../protocol/ucan/policy/ipld.ts";

export function signer(): Promise<Signer> {
  return signerFromSeed(generateSeed());
}

export async function signers(n: number): Promise<Signer[]> {
  return await Promise.all(Array.from({ length: n }, () => signer()));
}

export interface LinkSpec {
  cmd?: string;
  pol?: Ipld[];
  exp?: number | null;
  nbf?: number;
  /** Override the subject (default: the chain's root; null for a powerline). */
  sub?: string | null;
  /** Signed metadata, e.g. `{ kind: "agent" }` for a delegation made for an agent. */
  meta?: Record<string, Ipld>;
}

/**
 * A root-first chain principals[0] → principals[1] → … → principals[n],
 * one delegation per spec, about principals[0].
 */
export async function chain(principals: Signer[], specs: LinkSpec[]): Promise<Delegation[]> {
  const out: Delegation[] = [];
  for (let i = 0; i < specs.length; i++) {
    const s = specs[i];
    out.push(
      await delegate({
        issuer: principals[i],
        audience: principals[i + 1].did,
        subject: s.sub === undefined ? principals[0].did : s.sub,
        command: s.cmd ?? "/",
        policy: s.pol,
        expiration: s.exp === undefined ? null : s.exp,
        notBefore: s.nbf,
        meta: s.meta,
      }),
    );
  }
  return out;
}

/** The delegation `cid` out of a container the API returned (containers order tokens bytewise, not as a chain). */
export async function delegationIn(container: string, cid: string): Promise<Delegation> {
  const found = (await decodeContainer(container)).map((t) => decodeDelegation(t)).find((d) =>
    d.cid.toString() === cid
  );
  if (!found) throw new Error(`no delegation ${cid} in the container`);
  return found;
}
