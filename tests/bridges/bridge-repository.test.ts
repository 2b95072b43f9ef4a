/**
 * What a host tells a bridge about its spaces' repositories: where its bare
 * copy of one is (BridgeContext.repository) only for a space the bridge is
 * a member of — nothing of a space reaches a principal outside it — and the
 * repository's reduced state (BridgeSpace.repo); an operation the bridge
 * performs answers with its CID.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { hostBridge } from "../../protocol/bridge/context.ts";
import { generateSeed } from "../../protocol/identity/ed25519.ts";
import { Commands } from "../../protocol/ucan/commands.ts";
import { nativeSigner } from "../../peer/crypto/native-signer.ts";
import { memoryNode } from "../helpers/nodes.ts";

const quiet = { info() {}, warn() {}, error() {} };

describe("a bridge and its spaces' repositories", () => {
  it("learns where a repository's copy is only in a space it is in, and reads its state", async () => {
    const a = await memoryNode();
    try {
      const mine = await a.node.createSpace("bridged");
      const other = await a.node.createSpace("not the bridge's");
      for (const space of [mine, other]) {
        await space.perform(Commands.repoCreate, { repo: "app", defaultBranch: "main" });
      }
      const bridge = nativeSigner(generateSeed());
      const asked: string[] = [];
      const hosted = hostBridge({
        name: "radicle",
        node: a.node,
        signer: bridge,
        log: quiet,
        repositories: (space, name) => {
          asked.push(space);
          return Promise.resolve(`/copies/${space}/${name}.git`);
        },
      });
      try {
        const { context } = hosted;
        assert.equal(await context.repository!(mine.id, "app"), undefined, "not a member yet");
        await mine.invite({ audience: bridge.did, command: Commands.patchReview, kind: "agent", name: "radicle" });
        assert.equal(await context.repository!(mine.id, "app"), `/copies/${mine.id}/app.git`);
        assert.equal(await context.repository!(other.id, "app"), undefined, "a space it is not in");
        assert.deepEqual(asked, [mine.id], "the host is not even asked about a space the bridge is not in");
        const view = context.space(mine.id)!;
        assert.equal(view.repo("app")?.defaultBranch, "main");
        assert.equal(view.repo("nope"), undefined);
        const { cid } = await mine.perform(Commands.repoPush, {
          repo: "app",
          updates: [{ ref: "refs/heads/main", old: "0".repeat(40), new: "1".repeat(40) }],
        });
        const patch = "bridgepatch1";
        await mine.perform(Commands.patchPropose, {
          patch,
          repo: "app",
          target: "refs/heads/main",
          base: "1".repeat(40),
          head: "2".repeat(40),
          title: "reviewed by the bridge",
        });
        const review = await view.perform(Commands.patchReview, {
          patch,
          revision: view.patches()[0].revisions[0].id,
          verdict: "comment",
          body: "seen",
        });
        assert.notEqual(review, cid);
        assert.equal(view.patches()[0].reviews[0].id, review, "perform answers the review's CID");
      } finally {
        hosted.detach();
      }
    } finally {
      await a.node.stop();
    }
  });
});
