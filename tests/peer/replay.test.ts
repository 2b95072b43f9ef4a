/**
 * A used API bearer stays used across a restart: a real peer process
 * answers a bearer, is killed outright (SIGKILL, no chance to flush), and
 * restarted on the same home refuses the exact same bearer.
 */
import { it } from "node:test";
import assert from "node:assert/strict";
import { killPeer, startPeer, stopPeer } from "../helpers/peer-process.ts";

it("a bearer answered before a crash is refused as replayed after the restart", async () => {
  const first = await startPeer();
  const client = await first.api();
  const bearers = await Promise.all(["/v1/node", "/v1/spaces", "/v1/peers"].map((p) => client.bearer("GET", p)));
  const used = await Promise.all(
    ["/v1/node", "/v1/spaces", "/v1/peers"].map((p, i) =>
      fetch(client.url + p, { headers: { authorization: `Bearer ${bearers[i]}` } })
    ),
  );
  assert.deepEqual(used.map((r) => r.status), [200, 200, 200]);
  await killPeer(first);

  const second = await startPeer({}, first.home);
  try {
    const url = (await second.api()).url;
    for (const [i, path] of ["/v1/node", "/v1/spaces", "/v1/peers"].entries()) {
      const res = await fetch(url + path, { headers: { authorization: `Bearer ${bearers[i]}` } });
      assert.equal(res.status, 401, `${path} answered a replayed bearer`);
      assert.equal((await res.json()).error.code, "auth/replayed");
    }
    // A fresh bearer still works.
    const fresh = await (await second.api()).get<{ did: string }>("/v1/node");
    assert.ok(fresh.did);
  } finally {
    await stopPeer(second);
  }
});
