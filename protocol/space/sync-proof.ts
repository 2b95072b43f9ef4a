/**
 * Proof of membership at connect: an invocation of /weft/space/sync on the
 * space, whose args name the remote's fresh challenge and DID, sent in a
 * UCAN container with its delegation chain. Bound to the challenge, it
 * cannot be replayed on another connection; bound to the remote, it cannot
 * be relayed to a third party. It also names the space document, so a relay
 * that carries the space knows where its documents start.
 */
import { equalBytes } from "../bytes.ts";
import { isValidAutomergeUrl } from "@automerge/automerge-repo";
import { WeftError } from "../errors.ts";
import type { Signer } from "../identity/ed25519.ts";
import { Commands } from "../ucan/commands.ts";
import { decodeContainer, encodeContainer } from "../ucan/container.ts";
import { decodeDelegation, type Delegation } from "../ucan/delegation.ts";
import { decodeEnvelope, isInvocationTag } from "../ucan/envelope.ts";
import { invoke } from "../ucan/invocation.ts";
import { MemoryProofStore } from "../ucan/stores.ts";
import { UcanError } from "../ucan/errors.ts";
import type { Validator } from "../ucan/validator.ts";

export class SyncRefused extends WeftError {
  constructor(message: string) {
    super("SyncRefused", "sync/refused", message);
  }
}

export async function proveSync(
  signer: Signer,
  space: string,
  doc: string,
  chain: readonly Delegation[],
  challenge: Uint8Array,
  remoteDid: string,
): Promise<Uint8Array> {
  const inv = await invoke({
    issuer: signer,
    subject: space,
    command: Commands.spaceSync,
    args: { challenge, peer: remoteDid, doc },
    proofs: chain,
    expiration: null,
  });
  return (await encodeContainer([inv.bytes, ...chain.map((d) => d.bytes)], "@")) as Uint8Array;
}

export interface VerifiedSync {
  space: string;
  /** The chain the remote presented, root first. */
  chain: readonly Delegation[];
  /** The space document's URL, as the remote named it. */
  doc?: string;
}

/** Check a remote's sync proof; `validatorFor` gives the validator of a space this node is in. */
export async function verifySync(
  proof: Uint8Array,
  expect: { challenge: Uint8Array; localDid: string; remoteDid: string },
  validatorFor: (space: string) => Validator | undefined,
): Promise<VerifiedSync> {
  const tokens = await decodeContainer(proof);
  const extra = new MemoryProofStore();
  let invocation: Uint8Array | undefined;
  for (const t of tokens) {
    const env = decodeEnvelope(t);
    if (isInvocationTag(env.tag)) {
      if (invocation) throw new SyncRefused("a sync proof holds exactly one invocation");
      invocation = t;
    } else {
      extra.put(decodeDelegation(t));
    }
  }
  if (!invocation) throw new SyncRefused("a sync proof needs an invocation");
  const sub = decodeEnvelope(invocation).payload.sub;
  const validator = typeof sub === "string" ? validatorFor(sub) : undefined;
  if (!validator) throw new SyncRefused(`not a space this node is in: ${String(sub).slice(0, 80)}`);
  const { invocation: inv, proofs } = await validator.validate(invocation, { proofs: extra });
  if (inv.cmd !== Commands.spaceSync) throw new UcanError("InvalidClaim", `a sync proof invokes ${Commands.spaceSync}`);
  if (inv.iss !== expect.remoteDid) {
    throw new SyncRefused(`the proof is by ${inv.iss}, but the peer is ${expect.remoteDid}`);
  }
  const { challenge, peer } = inv.args;
  if (!(challenge instanceof Uint8Array) || !equalBytes(challenge, expect.challenge)) {
    throw new SyncRefused("the proof answers another challenge (replayed?)");
  }
  if (peer !== expect.localDid) throw new SyncRefused("the proof is addressed to another peer");
  const doc = inv.args.doc;
  return { space: inv.sub, chain: proofs, ...(typeof doc === "string" && isValidAutomergeUrl(doc) ? { doc } : {}) };
}
