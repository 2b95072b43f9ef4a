/**
 * Revocation of delegations (UCAN revocation spec).
 *
 * A revocation is a signed record: an invocation of `/ucan/revoke` with
 * args `{rev: <delegation CID>, pth: [<CIDs root first, ending at rev>]}`
 * and an empty nonce (revoking is idempotent, so the same revoker revoking
 * the same delegation always yields the same CID). It is valid only when
 * `pth` is a properly linked chain from the subject down to the revoked
 * delegation and the revoker issued one of its links — that is, stands at
 * or above the revoked delegation in the chain. Anyone else's revocation
 * is refused with InvalidRevocation.
 */
import type { CID } from "multiformats/cid";
import type { Signer } from "../identity/ed25519.ts";
import { UcanError } from "./errors.ts";
import type { Delegation } from "./delegation.ts";
import { type Invocation, invoke, MAX_PROOFS } from "./invocation.ts";
import { link } from "./payload-checks.ts";
import type { ProofStore } from "./stores.ts";
import type { Ipld } from "./policy/ipld.ts";
import type { Validator } from "./validator.ts";

export const REVOKE_COMMAND = "/ucan/revoke";

export interface Revocation {
  readonly invocation: Invocation;
  /** CID of the revoked delegation. */
  readonly revoked: CID;
  /** The chain from the subject to the revoked delegation, root first. */
  readonly path: readonly Delegation[];
  readonly revoker: string;
}

function refuse(message: string, cid?: CID): UcanError {
  return new UcanError("InvalidRevocation", message, { cid: cid?.toString() });
}

/**
 * Sign a revocation of the last delegation of `path` (root first).
 * `issuedAt` (Unix s) says when; `meta` may say where in a log it was made
 * (Weft records the revoker's causal position there). Neither changes what
 * is revoked.
 */
export function revoke(
  issuer: Signer,
  path: readonly Delegation[],
  options: { issuedAt?: number; meta?: Record<string, Ipld> } = {},
): Promise<Invocation> {
  if (path.length === 0) throw refuse("a revocation needs the path to the delegation it revokes");
  const root = path[0];
  if (root.sub === null) throw refuse("the path must start at the subject's root delegation");
  return invoke({
    issuer,
    subject: root.sub,
    command: REVOKE_COMMAND,
    args: { rev: path[path.length - 1].cid, pth: path.map((d) => d.cid) },
    proofs: [],
    expiration: null,
    nonce: new Uint8Array(0),
    ...(options.issuedAt !== undefined ? { issuedAt: options.issuedAt } : {}),
    ...(options.meta ? { meta: options.meta } : {}),
  });
}

/** Check a revocation record; the result may be added to a RevocationStore. */
export async function validateRevocation(
  validator: Validator,
  bytes: Uint8Array,
  extraProofs?: ProofStore,
): Promise<Revocation> {
  const inv = await validator.verifyInvocationSignature(bytes);
  if (inv.cmd !== REVOKE_COMMAND) throw refuse(`a revocation invokes ${REVOKE_COMMAND}, not ${inv.cmd}`, inv.cid);
  const args = inv.args;
  const keys = Object.keys(args);
  if (keys.length !== 2 || !Object.hasOwn(args, "rev") || !Object.hasOwn(args, "pth")) {
    throw refuse("revocation args are exactly {rev, pth}", inv.cid);
  }
  const revoked = link(args.rev, "args.rev");
  const pth = args.pth;
  if (!Array.isArray(pth) || pth.length === 0 || pth.length > MAX_PROOFS) {
    throw refuse(`args.pth must list 1 to ${MAX_PROOFS} delegation CIDs`, inv.cid);
  }
  const cids = pth.map((c, i) => link(c, `args.pth[${i}]`));
  if (!cids[cids.length - 1].equals(revoked)) throw refuse("args.pth must end at the revoked delegation", inv.cid);

  const path: Delegation[] = [];
  for (let i = 0; i < cids.length; i++) path.push(await validator.resolveProof(cids[i], i, extraProofs));
  const root = path[0];
  if (root.sub === null || root.iss !== root.sub || root.sub !== inv.sub) {
    throw refuse(`the path must start with a delegation issued by the subject ${inv.sub}`, inv.cid);
  }
  for (let i = 1; i < path.length; i++) {
    if (path[i - 1].aud !== path[i].iss) throw refuse(`the path is broken between links ${i - 1} and ${i}`, inv.cid);
    if ((path[i].sub ?? inv.sub) !== inv.sub) throw refuse(`link ${i} of the path is about another subject`, inv.cid);
  }
  if (!path.some((d) => d.iss === inv.iss)) {
    throw refuse(`${inv.iss} issued no delegation at or above the revoked one, so cannot revoke it`, inv.cid);
  }
  return { invocation: inv, revoked, path, revoker: inv.iss };
}
