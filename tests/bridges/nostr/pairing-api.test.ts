/**
 * Confirming a bridge pairing code through the peer's API (what
 * `weft nostr pair` sends): the delegation the peer signs to the bridge
 * carries the code's proof bound to the peer's own DID — never the code —
 * and a code that is not a code is refused at the boundary.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { testDaemon } from "../../helpers/daemon.ts";
import { generateSeed } from "../../../protocol/identity/ed25519.ts";
import { nativeSigner } from "../../../peer/crypto/native-signer.ts";
import { pairingProof } from "../../../protocol/bridge/pairing-proof.ts";
import { Commands } from "../../../protocol/ucan/commands.ts";

describe("POST /v1/spaces/:space/capabilities with a pairing code", () => {
  it("puts the code's proof for this peer's DID in the delegation's meta", async () => {
    const d = await testDaemon();
    try {
      const { spaces } = await d.client.get<{ spaces: Array<{ id: string }> }>("/v1/spaces");
      const space = spaces[0].id;
      const bridge = nativeSigner(generateSeed()).did;
      const path = `/v1/spaces/${encodeURIComponent(space)}/capabilities`;
      const { cid } = await d.client.request<{ cid: string }>("POST", path, {
        audience: bridge,
        command: Commands.taskCreate,
        kind: "agent",
        pairing: "ab12c-de34f",
      });
      const { capabilities } = await d.client.get<
        { capabilities: Array<{ cid: string; iss: string; aud: string; meta: Record<string, unknown> }> }
      >(path);
      const made = capabilities.find((c) => c.cid === cid)!;
      assert.equal(made.aud, bridge);
      assert.equal(made.iss, d.daemon.node.did);
      assert.equal(made.meta.pairing, pairingProof("AB12CDE34F", d.daemon.node.did), "typed case and dash ignored");
      assert.ok(!JSON.stringify(made.meta).includes("ab12c"), "the code itself is not in the document");
      await assert.rejects(
        d.client.request("POST", path, { audience: bridge, command: Commands.taskCreate, pairing: "x".repeat(65) }),
        /pairing/,
      );
    } finally {
      await d.stop();
    }
  });
});
