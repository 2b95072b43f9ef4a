/**
 * A delegation's lapse is an authority change, told to the node's listeners
 * (sessions, share policy, stock clients) only once the node's clock has
 * passed it: a timer that fires early (Node counts timeouts from the event
 * loop's cached time) must not make them re-check while it still holds.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { AuthorityChanges } from "../../protocol/node/authority-changes.ts";
import type { NodeContext } from "../../protocol/node/node-context.ts";
import type { SharePolicy } from "../../protocol/node/share-policy.ts";

const SPACE = "did:key:zSpace";

/** A node context holding one space whose only delegation lapses after second `exp`, on the clock `now`. */
function context(exp: number, now: () => number): NodeContext {
  const space = { authority: { delegations: [{ exp }] } };
  return { now, spaces: new Map([[SPACE, space]]), stopped: () => false } as unknown as NodeContext;
}

describe("authority changes", () => {
  it("tells of a lapse only once the node's clock has passed it, however early its timer fires", async () => {
    // The node's clock falls 300 ms behind the timers once the lapse is armed: the timer fires
    // when the clock still reads the delegation's last valid second.
    let lag = 0;
    const now = () => Date.now() - lag;
    const exp = Math.floor(Date.now() / 1000);
    const changes = new AuthorityChanges(context(exp, now), { changed() {} } as unknown as SharePolicy);
    const told: number[] = [];
    const lapsed = new Promise<void>((resolve) => {
      changes.onChange(() => {
        told.push(now());
        if (now() >= (exp + 1) * 1000) resolve();
      });
    });
    try {
      changes.changed(SPACE);
      lag = 300;
      told.length = 0;
      await lapsed;
      assert.ok(told.length > 0);
      for (const at of told) {
        assert.ok(at >= (exp + 1) * 1000, `told at ${at}, before the lapse at ${(exp + 1) * 1000}`);
      }
    } finally {
      changes.stop();
    }
  });
});
