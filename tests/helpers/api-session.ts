/**
 * Opening an API session by hand (POST /v1/sessions), as peer/api/client.ts
 * does inside: for tests that send session requests of their own making and
 * for the api-throughput bench, which MACs its requests before the clock.
 */
import type { KeyObject } from "node:crypto";
import assert from "node:assert/strict";
import type { CID } from "multiformats/cid";
import { requestArgs } from "../../peer/api/request.ts";
import { sessionKey, sessionKeyPair } from "../../peer/api/session-crypto.ts";
import { encodeContainer } from "../../protocol/ucan/container.ts";
import type { Delegation } from "../../protocol/ucan/delegation.ts";
import { invoke } from "../../protocol/ucan/invocation.ts";
import type { Signer } from "../../protocol/identity/ed25519.ts";

/** Who opens a session: a key, the proofs its invocations name (CIDs or delegations) and those it carries. */
export interface Holder {
  signer: Signer;
  proofs: Array<Delegation | CID>;
  carried: Delegation[];
}

export interface Opened {
  id: string;
  key: KeyObject;
  endsAt: number;
  /** The bearer that opened it, and the body it was sent with. */
  bearer: string;
  body: string;
}

/** POST /v1/sessions with a bearer invoking `command` on `subject` (and `key`, else a fresh one); the raw answer. */
export async function openRaw(url: string, node: string, h: Holder, subject: string, command: string, key?: string) {
  const pair = sessionKeyPair();
  const body = JSON.stringify({ key: key ?? pair.publicKey });
  const now = Math.floor(Date.now() / 1000);
  const inv = await invoke({
    issuer: h.signer,
    audience: node,
    subject,
    command,
    args: requestArgs("POST", "/v1/sessions", new TextEncoder().encode(body)),
    proofs: h.proofs,
    expiration: now + 60,
  });
  const bearer = (await encodeContainer([inv.bytes, ...h.carried.map((d) => d.bytes)], "C")) as string;
  const res = await fetch(`${url}/v1/sessions`, {
    method: "POST",
    headers: { authorization: `Bearer ${bearer}`, "content-type": "application/json" },
    body,
  });
  return { res, pair, cid: inv.cid.toString(), bearer, body };
}

/** Open a session on `subject` for `command`; fails the test if the peer refuses. */
export async function openSession(
  url: string,
  node: string,
  h: Holder,
  subject: string,
  command: string,
): Promise<Opened> {
  const { res, pair, cid, bearer, body } = await openRaw(url, node, h, subject, command);
  const answer = await res.json();
  assert.equal(res.status, 201, JSON.stringify(answer));
  const key = sessionKey(pair.privateKey, answer.key, cid);
  return { id: answer.session, key, endsAt: answer.endsAt, bearer, body };
}
