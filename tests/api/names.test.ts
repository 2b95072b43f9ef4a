/**
 * Names with control characters (NUL, newline, escapes, bidi overrides) are
 * refused at the API and the CLI with a clear message, leaving state as it
 * was, and a space rename carrying one is refused when it arrives from the
 * network.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import process from "node:process";
import type { ApiError } from "../../peer/api/client.ts";
import { signer } from "../helpers/principals.ts";
import { type TestDaemon, testDaemon } from "../helpers/daemon.ts";
import { eventually, link, memoryNode } from "../helpers/nodes.ts";

const run = promisify(execFile);
const CLI = new URL("../../peer/cli/weft.js", import.meta.url).pathname;
const enc = encodeURIComponent;
const BAD = ["nul\u0000name", "two\nlines", "cr\rname", "tab\tname", "esc\u001b[31mred", "del\u007f", "rtl\u202eevil"];

describe("names with control characters", () => {
  let d: TestDaemon;
  let space: string;

  before(async () => {
    d = await testDaemon();
    space = (await d.client.get<{ spaces: Array<{ id: string }> }>("/v1/spaces")).spaces[0].id;
  });
  after(() => d.stop());

  async function refused(call: Promise<unknown>, field: string): Promise<void> {
    await assert.rejects(call, (e: ApiError) => {
      assert.equal(e.status, 400);
      assert.equal(e.code, "input/invalid");
      assert.match(e.message, new RegExp(`^body\\.${field} must not contain control characters`));
      return true;
    });
  }

  it("are refused by the API, and nothing changes", async () => {
    const someone = await signer();
    const spaces = (await d.client.get<{ spaces: unknown[] }>("/v1/spaces")).spaces.length;
    const delegations = (await d.client.get<{ capabilities: unknown[] }>(`/v1/spaces/${enc(space)}/capabilities`))
      .capabilities.length;
    for (const name of BAD) {
      await refused(d.client.request("POST", "/v1/spaces", { name }), "name");
      await refused(d.client.request("POST", `/v1/spaces/${enc(space)}/invites`, { name }), "name");
      await refused(
        d.client.request("POST", `/v1/spaces/${enc(space)}/capabilities`, {
          audience: someone.did,
          command: "/weft/task/comment",
          kind: "device",
          name,
        }),
        "name",
      );
      await refused(
        d.client.request("POST", "/v1/capabilities", { audience: someone.did, command: "/weft/task", name }),
        "name",
      );
    }
    assert.equal((await d.client.get<{ spaces: unknown[] }>("/v1/spaces")).spaces.length, spaces);
    assert.equal(
      (await d.client.get<{ capabilities: unknown[] }>(`/v1/spaces/${enc(space)}/capabilities`)).capabilities.length,
      delegations,
    );
    // Plain names, other scripts and emoji included, are fine.
    await d.client.request("POST", "/v1/spaces", { name: "équipe 東京 👩‍💻" });
  });

  it("are refused by the CLI before it calls the peer", async () => {
    const env = { ...process.env, WEFT_HOME: d.home };
    for (const args of [["space", "create", "two\nlines"], ["space", "invite", "--name", "nul\u0001x"]]) {
      await assert.rejects(run(process.execPath, [CLI, ...args], { env }), (e: { code: number; stderr: string }) => {
        assert.notEqual(e.code, 0);
        assert.match(e.stderr, /must not contain control characters/);
        return true;
      });
    }
    const spaces = (await d.client.get<{ spaces: Array<{ name: string }> }>("/v1/spaces")).spaces;
    assert.ok(!spaces.some((s) => s.name.includes("\n")));
  });
});

describe("a space rename from the network", () => {
  it("is refused when the new name holds a control character", async () => {
    const a = await memoryNode();
    const b = await memoryNode();
    try {
      const space = await a.node.createSpace("team");
      link(a, b);
      const joined = await b.node.join(await a.node.invite(space.id, { audience: b.node.did }), {
        signal: AbortSignal.timeout(10_000),
      });
      await space.rename("evil\nname"); // a's own node does not check: it stands for a hostile member
      await eventually(
        () => b.node.diagnostics.refusals({ space: space.id }).find((r) => r.what.startsWith("space op")),
        10_000,
        "b refuses the rename",
      );
      assert.equal(joined.name, "team");
      await space.rename("renamed");
      await eventually(() => joined.name === "renamed", 10_000, "a plain rename still arrives");
    } finally {
      await a.node.stop();
      await b.node.stop();
    }
  });
});
