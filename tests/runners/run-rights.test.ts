/**
 * runRefusal against a real space's delegations: which delegated commands
 * let a task's creator have a job of a kind run, and which do not — the
 * exact command, a prefix, the whole space; not another kind; and, when the
 * task's requirements name another runner than its spec, both kinds.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { RunSpec } from "../../protocol/runner/runner.ts";
import { runRefusal, RunRightsCache } from "../../protocol/scheduler/run-authority.ts";
import type { Space } from "../../protocol/space/space.ts";
import type { Task } from "../../protocol/tasks/state.ts";
import { Commands } from "../../protocol/ucan/commands.ts";
import { memoryNode, type TestNode } from "../helpers/nodes.ts";
import { signer } from "../helpers/principals.ts";

const spec = (runner: string): RunSpec => ({
  runner,
  program: "prog",
  args: [],
  inputs: [],
  env: [],
  limits: { wallMs: 1000, memoryMb: 16, outputBytes: 1024 },
});

/** A task as the reducer makes it, created by `creator`: only the fields the check reads matter. */
const task = (creator: string, runner: string, required?: string) =>
  ({ id: "t0000000", creator, run: spec(runner), requirements: required ? { runner: required } : {} }) as
    & Task
    & { run: RunSpec };

describe("who may have a job run", () => {
  let n: TestNode;
  let space: Space;
  before(async () => {
    n = await memoryNode();
    space = await n.node.createSpace("rights");
  });
  after(() => n.node.stop());

  const holding = async (command: string) => {
    const who = await signer();
    await space.invite({ audience: who.did, command });
    return who.did;
  };

  it("the exact command, a prefix, or the whole space lets a creator's wasm job run", async () => {
    for (const command of [Commands.runWasm, Commands.run, Commands.all]) {
      assert.equal(runRefusal(space, task(await holding(command), "wasm"), Date.now()), undefined, command);
    }
    assert.equal(runRefusal(space, task(space.id, "wasm"), Date.now()), undefined, "the space's root");
  });

  it("another kind, task commands, or nothing at all do not; the reason names the command", async () => {
    for (const command of [Commands.runNix, Commands.task, Commands.spaceSync]) {
      const did = await holding(command);
      const why = runRefusal(space, task(did, "wasm"), Date.now());
      assert.match(why ?? "", new RegExp(`its creator ${did} does not hold /weft/run/wasm in this space`), command);
    }
    assert.ok(runRefusal(space, task((await signer()).did, "wasm"), Date.now()));
  });

  it("requirements naming another runner need that kind too", async () => {
    const did = await holding(Commands.runWasm);
    assert.match(runRefusal(space, task(did, "wasm", "nix"), Date.now()) ?? "", /does not hold \/weft\/run\/nix/);
  });

  it("the cache answers as the space does within a second, and looks again the next", async () => {
    const cache = new RunRightsCache();
    const who = await signer();
    const now = Date.now();
    assert.ok(runRefusal(space, task(who.did, "wasm"), now, cache));
    await space.invite({ audience: who.did, command: Commands.runWasm });
    assert.equal(runRefusal(space, task(who.did, "wasm"), now + 1000, cache), undefined);
  });
});
