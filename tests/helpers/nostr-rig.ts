/**
 * The Nostr bridge's test rig: a real relay on loopback, peer a running the
 * bridge as its own DID, peer b (a member) as the person who pairs, and the
 * steps a person takes: DM "pair", confirm the code with b's own key (what
 * `weft nostr pair` makes), wait for the bridge's "Paired".
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { link, memoryNode, type TestNode } from "./nodes.ts";
import { startRelay, type TestRelay } from "./nostr-relay.ts";
import type { Phone } from "./nostr-phone.ts";
import { generateSeed } from "../../protocol/identity/ed25519.ts";
import { nativeSigner } from "../../peer/crypto/native-signer.ts";
import { Commands } from "../../protocol/ucan/commands.ts";
import { delegate } from "../../protocol/ucan/delegation.ts";
import { hostBridge, type HostedBridge } from "../../protocol/bridge/context.ts";
import type { BridgeLlm } from "../../protocol/bridge/bridge.ts";
import { PAIRING_META, pairingProof } from "../../protocol/bridge/pairing-proof.ts";
import type { Space } from "../../protocol/space/space.ts";
import { type NostrBridge, nostrBridge } from "../../bridges/nostr/bridge.ts";

export interface Rig {
  relay: TestRelay;
  a: TestNode;
  b: TestNode;
  /** The space on a (where the bridge runs) and as b sees it. */
  space: Space;
  joined: Space;
  bridgeSigner: ReturnType<typeof nativeSigner>;
  dir: string;
  bridge: NostrBridge;
  hosted: HostedBridge;
  logs: Array<{ message: string; fields?: Record<string, unknown> }>;
  /** The LLM router the bridge's host lends it, if the test gives one. */
  llm?: BridgeLlm;
}

export async function startNostr(rig: Omit<Rig, "bridge" | "hosted">, table: Record<string, unknown> = {}) {
  const hosted = hostBridge({
    name: "nostr",
    node: rig.a.node,
    signer: rig.bridgeSigner,
    dir: rig.dir,
    ...(rig.llm ? { llm: rig.llm } : {}),
    log: {
      info: (message, fields) => rig.logs.push({ message, fields }),
      warn: (message, fields) => rig.logs.push({ message, fields }),
      error: (message, fields) => rig.logs.push({ message, fields }),
    },
  });
  const bridge = nostrBridge.create(nostrBridge.configure({ relays: [rig.relay.url], ...table })) as NostrBridge;
  await bridge.start(hosted.context);
  return { bridge, hosted };
}

/**
 * The rig, on `options.relay` when given (one the test restarts), else on a
 * fresh in-memory one; `options.llm` gives the bridge a model router.
 */
export async function rig(
  table: Record<string, unknown> = {},
  options: { relay?: TestRelay; llm?: BridgeLlm } = {},
): Promise<Rig> {
  const { llm } = options;
  const relay = options.relay ?? await startRelay();
  const a = await memoryNode();
  const b = await memoryNode();
  const space = await a.node.createSpace("team");
  link(a, b);
  const joined = await b.node.join(await a.node.invite(space.id, { audience: b.node.did }), {
    signal: AbortSignal.timeout(10_000),
  });
  const base = {
    relay,
    a,
    b,
    space,
    joined,
    bridgeSigner: nativeSigner(generateSeed()),
    logs: [],
    ...(llm ? { llm } : {}),
  };
  const dir = await mkdtemp(join(tmpdir(), "weft-nostr-"));
  const started = await startNostr({ ...base, dir }, table);
  return { ...base, dir, ...started };
}

export async function stop(r: Rig): Promise<void> {
  await r.bridge.close();
  r.hosted.detach();
  await r.a.node.stop();
  await r.b.node.stop();
  await r.relay.close();
  await rm(r.dir, { recursive: true, force: true });
}

/** What `weft nostr pair CODE` makes on the person's peer: a delegation to the bridge carrying the code's proof. */
export async function confirm(person: TestNode, space: Space, bridgeDid: string, code: string, command: string) {
  const [chain] = space.authority.chainsFor(person.node.did, command, Math.floor(Date.now() / 1000));
  const d = await delegate({
    issuer: person.node.signer,
    audience: bridgeDid,
    subject: space.id,
    command,
    expiration: null,
    meta: { kind: "member", name: "bridge nostr", [PAIRING_META]: pairingProof(code, person.node.did) },
  });
  await space.addDelegations([d, ...chain]);
  return d;
}

/** DM "pair", confirm the code on b for `commands`, and wait for the bridge's "Paired" DM. */
export async function pairPhone(r: Rig, phone: Phone, commands: string[] = [Commands.taskCreate]): Promise<void> {
  const n = phone.inbox.length;
  await phone.send(r.bridge.pubkey!, "pair");
  const offer = await phone.received(n + 1, 30_000);
  const code = offer.match(/code is ([0-9A-Z]{5}-[0-9A-Z]{5})/)?.[1];
  assert.ok(code, `a code in: ${offer}`);
  assert.match(offer, new RegExp(`weft nostr pair ${code} --bridge ${r.bridgeSigner.did}`));
  for (const command of commands) await confirm(r.b, r.joined, r.bridgeSigner.did, code, command);
  assert.match(await phone.received(n + 2, 30_000), new RegExp(`Paired with ${r.b.node.did}`));
}
