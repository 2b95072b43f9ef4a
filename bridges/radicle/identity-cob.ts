/**
 * `xyz.radicle.id`: a repository's identity, evaluated as heartwood does
 * enough to know who its delegates are. The root revision's document is
 * the repository (its blob id is the RID). A later document counts only
 * once delegates of the current one, as many as its threshold, have signed
 * its blob: the revision's author (a delegate) and `revision.accept`s by
 * other delegates. Anyone can write a revision into their namespace; it
 * changes nothing until the delegates accept it.
 */
import { fromHex, fromUtf8 } from "#protocol";
import { actionJson, type Change } from "./cob-change.ts";
import { RadicleMalformed } from "./errors.ts";
import { checkOid, decodeSignature, nidOf, nidOfDid, ridOf } from "./radicle-ids.ts";

export const IDENTITY_TYPE = "xyz.radicle.id";

export interface Identity {
  rid: string;
  /** The identity's root change: what a node's signed `refs/rad/root` names (its document's blob is the RID). */
  root: string;
  /** The change that made the current document: what new objects name as their resource. */
  head: string;
  delegates: Set<string>;
  threshold: number;
}

interface Doc {
  delegates: Set<string>;
  threshold: number;
}

export interface IdentityReader {
  /** A document blob's bytes. */
  blob(oid: string): Promise<Uint8Array>;
  verify(nid: string, message: Uint8Array, signature: Uint8Array): Promise<boolean>;
}

function parseDoc(bytes: Uint8Array, blob: string): Doc {
  let v: { delegates?: unknown; threshold?: unknown };
  try {
    v = JSON.parse(fromUtf8(bytes));
  } catch {
    throw new RadicleMalformed(`identity document ${blob}`, "is not JSON");
  }
  if (!Array.isArray(v.delegates) || v.delegates.length === 0 || v.delegates.length > 255) {
    throw new RadicleMalformed(`identity document ${blob}`, "lists no delegates");
  }
  const delegates = new Set(v.delegates.map((d) => nidOfDid(String(d))));
  const threshold = v.threshold;
  if (typeof threshold !== "number" || !Number.isInteger(threshold) || threshold < 1 || threshold > delegates.size) {
    throw new RadicleMalformed(`identity document ${blob}`, "has a threshold that its delegates cannot meet");
  }
  return { delegates, threshold };
}

export async function evaluateIdentity(changes: Change[], read: IdentityReader): Promise<Identity> {
  const root = changes[0];
  if (!root) throw new RadicleMalformed("identity", "has no root change");
  const first = actionJson(root, 0);
  const rootBlob = checkOid(first.blob, "identity document blob");
  if (first.type !== "revision" || !root.embeds.some((e) => e.name === "radicle.json" && e.oid === rootBlob)) {
    throw new RadicleMalformed(`identity ${root.id}`, "does not start with a revision embedding its document");
  }
  let doc = parseDoc(await read.blob(rootBlob), rootBlob);
  const identity: Identity = {
    rid: ridOf(rootBlob),
    root: root.id,
    head: root.id,
    delegates: doc.delegates,
    threshold: doc.threshold,
  };
  /** Proposed documents by revision id: their blob, parsed document and the delegates who signed it. */
  const proposals = new Map<string, { blob: string; doc: Doc; signers: Set<string> }>();
  const signedBy = async (who: string, blob: string, signature: unknown) =>
    doc.delegates.has(who) && await read.verify(who, fromHex(blob), decodeSignature(signature));
  for (const change of changes.slice(1)) {
    const who = nidOf(change.signer);
    for (let i = 0; i < change.actions.length; i++) {
      const a = actionJson(change, i);
      try {
        if (a.type === "revision") {
          const blob = checkOid(a.blob, "identity document blob");
          if (!change.embeds.some((e) => e.oid === blob) || !(await signedBy(who, blob, a.signature))) continue;
          proposals.set(change.id, { blob, doc: parseDoc(await read.blob(blob), blob), signers: new Set([who]) });
        } else if (a.type === "revision.accept") {
          const p = proposals.get(checkOid(a.revision, "revision"));
          if (p && await signedBy(who, p.blob, a.signature)) p.signers.add(who);
        } else continue;
      } catch {
        continue; // a malformed proposal or acceptance changes nothing
      }
      for (const [id, p] of proposals) {
        const signed = [...p.signers].filter((s) => doc.delegates.has(s)).length;
        if (signed < doc.threshold) continue;
        doc = p.doc;
        Object.assign(identity, { head: change.id, delegates: doc.delegates, threshold: doc.threshold });
        proposals.delete(id);
      }
    }
  }
  return identity;
}
