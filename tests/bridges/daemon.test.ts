/**
 * The example bridge in real daemons: it runs under its own DID (a 0600 key
 * file of its own), holds nothing until a member grants it through the API,
 * then labels tasks as that DID and another daemon verifies and applies its
 * operations; outside its grant it cannot act, a revocation takes its space
 * away and stops it acting, and stopping the daemon closes it.
 */
import { describe, it } from "node:test";
import { execFile } from "node:child_process";
import process from "node:process";
import { promisify } from "node:util";
import assert from "node:assert/strict";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Daemon, startDaemon } from "../../peer/daemon/daemon.ts";
import { loadConfig } from "../../peer/daemon/config.ts";
import { createLogger } from "../../peer/daemon/logger.ts";
import { ApiClient } from "../../peer/api/client.ts";
import { loadCredentials } from "../../peer/api/credentials.ts";
import { Commands } from "../../protocol/ucan/commands.ts";
import { Forbidden } from "../../protocol/space/errors.ts";
import type { BridgeEvent } from "../../protocol/bridge/bridge.ts";
import type { TaskView } from "../../protocol/tasks/query.ts";
import { eventually } from "../helpers/nodes.ts";

interface Peer {
  daemon: Daemon;
  home: string;
  client: ApiClient;
  /** Every log line the daemon wrote, parsed. */
  lines: Array<Record<string, unknown>>;
  /** Resolves with the first log line (already written or still to come) that `match` accepts; fails after 15 s. */
  logged(match: (line: Record<string, unknown>) => boolean, what: string): Promise<Record<string, unknown>>;
}

async function peer(toml = ""): Promise<Peer> {
  const home = await mkdtemp(join(tmpdir(), "weft-bridge-"));
  await writeFile(join(home, "weft.toml"), toml);
  const lines: Array<Record<string, unknown>> = [];
  const waiters = new Set<
    { match: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }
  >();
  const log = createLogger("info", (text) => {
    const line = JSON.parse(text);
    lines.push(line);
    for (const w of waiters) if (w.match(line)) (waiters.delete(w), w.resolve(line));
  });
  const config = await loadConfig({
    WEFT_HOME: home,
    WEFT_HTTP_PORT: "0",
    WEFT_P2P_LISTEN: "/ip4/127.0.0.1/tcp/0",
  });
  const daemon = await startDaemon(config, log);
  return {
    daemon,
    home,
    client: new ApiClient(await loadCredentials(home)),
    lines,
    logged: (match, what) =>
      new Promise((resolve, reject) => {
        const seen = lines.find(match);
        if (seen) return resolve(seen);
        const timer = setTimeout(() => reject(new Error(`no log line: ${what}`)), 15_000);
        waiters.add({ match, resolve: (l) => (clearTimeout(timer), resolve(l)) });
      }),
  };
}

async function stop(p: Peer): Promise<void> {
  await p.daemon.stop();
  await rm(p.home, { recursive: true, force: true });
}

/** The task, once the bridge's label is on it. */
const labelled = (t: TaskView | undefined) => (t?.labels.includes("triaged") ? t : undefined);

/** Run the `weft` CLI against a peer, as a person does; parses its --json output. */
async function weft(p: Peer, ...args: string[]): Promise<Record<string, unknown>> {
  const cli = new URL("../../peer/cli/weft.js", import.meta.url).pathname;
  const { stdout } = await promisify(execFile)(process.execPath, [cli, ...args, "--json"], {
    env: { ...process.env, WEFT_HOME: p.home },
  });
  return JSON.parse(stdout);
}

const path = (space: string) => `/v1/spaces/${encodeURIComponent(space)}`;

describe("a bridge in real daemons", () => {
  it("acts as its own DID only with a grant, verified by another daemon; revoked, it stops; stop closes it", {
    timeout: 90_000,
  }, async () => {
    const a = await peer('[bridges.example]\nlabel = "triaged"\n');
    const b = await peer();
    try {
      const [bridge] = a.daemon.bridges;
      assert.equal(bridge.name, "example");
      assert.notEqual(bridge.did, a.daemon.node.did, "the bridge has a DID of its own");
      const key = await stat(join(a.home, "keys", "bridge-example.json"));
      assert.equal(key.mode & 0o777, 0o600);
      await a.logged((l) => l.msg === "bridge started with a new DID" && l.did === bridge.did, "bridge started");

      const space = await a.daemon.node.createSpace("bridged");
      await b.daemon.node.libp2p!.dial(a.daemon.node.libp2p!.getMultiaddrs()[0]);
      const joined = await b.daemon.node.join(await a.daemon.node.invite(space.id, { audience: b.daemon.node.did }), {
        signal: AbortSignal.timeout(15_000),
      });
      const first = await space.createTask({ title: "made before any grant" });
      assert.equal(bridge.context.space(space.id), undefined, "no grant: the space is not the bridge's");

      // A grant that does not cover labels: the bridge is in the space but may not act, and says what to grant.
      const commentGrant = await a.client.request<{ cid: string }>("POST", `${path(space.id)}/capabilities`, {
        audience: bridge.did,
        command: Commands.taskComment,
      });
      const warned = await a.logged(
        (l) => l.msg === "the example bridge may not label tasks in this space",
        "the warning",
      );
      assert.match(String(warned.grant), new RegExp(`--to ${bridge.did} --command ${Commands.taskLabel}`));
      const inSpace = bridge.context.space(space.id)!;
      await assert.rejects(inSpace.act("label", { task: first.id, add: ["triaged"] }), Forbidden);
      assert.deepEqual(space.task(first.id)?.labels, []);

      // The grant it needs, made the way `weft cap delegate` makes it.
      const grant = await a.client.request<{ cid: string }>("POST", `${path(space.id)}/capabilities`, {
        audience: bridge.did,
        command: Commands.taskLabel,
        kind: "agent",
        name: "example bridge",
      });
      const done = await eventually(
        () => labelled(joined.task(first.id)),
        15_000,
        "the label on b",
      );
      assert.equal(done!.history.at(-1)?.author, bridge.did, "b applied it as the bridge's operation");
      const fromB = await joined.createTask({ title: "made on b" });
      const seen = await eventually(
        () => labelled(joined.task(fromB.id)),
        15_000,
        "b's task labelled by the bridge on a",
      );
      assert.equal(seen!.history.at(-1)?.author, bridge.did);
      assert.equal(b.daemon.node.diagnostics.refusals({ space: space.id }).length, 0, "b refused nothing of it");

      // Revoked: it may not label any more; with its last grant revoked too, it loses the space.
      await a.client.request("DELETE", `${path(space.id)}/capabilities/${grant.cid}`, {});
      assert.equal(inSpace.holds(Commands.taskLabel), false);
      await assert.rejects(inSpace.act("label", { task: fromB.id, add: ["again"] }), Forbidden);
      const lost = new Promise<BridgeEvent>((resolve) => {
        const off = bridge.context.subscribe((e) => {
          if (e.type === "access" && !e.holds) (off(), resolve(e));
        });
      });
      await a.client.request("DELETE", `${path(space.id)}/capabilities/${commentGrant.cid}`, {});
      assert.equal((await lost).space, space.id);
      assert.equal(bridge.context.space(space.id), undefined);

      await a.daemon.stop();
      const closed = a.lines.findIndex((l) => l.msg === "bridge closed" && l.bridge === "example");
      const stopped = a.lines.findIndex((l) => l.msg === "peer stopped");
      assert.ok(closed >= 0 && closed < stopped, "the bridge was closed, before the node stopped");
    } finally {
      await stop(a);
      await stop(b);
    }
  });

  it(
    "weft bridge list shows the bridge's DID; weft bridge grant gives it what it needs",
    { timeout: 90_000 },
    async () => {
      const a = await peer("[bridges.example]\n");
      try {
        const [bridge] = a.daemon.bridges;
        const listed = await weft(a, "bridge", "list");
        assert.deepEqual(listed.bridges, [{
          name: "example",
          did: bridge.did,
          needs: [Commands.taskLabel],
          summary: "labels every unfinished task in its spaces, as its own DID",
        }]);
        const personal = a.daemon.node.spaces()[0];
        const task = await personal.createTask({ title: "to be labelled once granted" });
        const granted = await weft(a, "bridge", "grant", "example", "--space", personal.id);
        assert.equal(granted.did, bridge.did);
        assert.deepEqual((granted.delegations as Array<{ command: string }>).map((d) => d.command), [
          Commands.taskLabel,
        ]);
        assert.equal(bridge.context.space(personal.id)?.holds(Commands.taskLabel), true);
        const done = await eventually(
          () => (personal.task(task.id)?.labels.includes("seen-by-bridge") ? personal.task(task.id) : undefined),
          15_000,
          "the bridge's label",
        );
        assert.equal(done!.history.at(-1)?.author, bridge.did);
        await assert.rejects(
          weft(a, "bridge", "grant", "nope"),
          /this peer runs no bridge nope \(weft.toml names: example\)/,
        );
      } finally {
        await stop(a);
      }
    },
  );
});
