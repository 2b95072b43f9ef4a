/**
 * Request bodies cannot exhaust a peer: against a real peer process, a
 * chunked upload (no content-length) with a bogus bearer is answered 401
 * before the server has taken much of it, one with a good bearer but over
 * the limit gets 413 without the peer's memory growing by the body's size,
 * and /healthz answers within a second throughout. A large task operation,
 * which travels as the request's bearer, is not refused for its size.
 */
import { after, before, it } from "node:test";
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { once } from "node:events";
import { readFile } from "node:fs/promises";
import { type PeerProcess, startPeer, stopPeer } from "../helpers/peer-process.ts";
import type { ApiClient } from "../../peer/api/client.ts";
import { utf8 } from "../../protocol/bytes.ts";
import { newTaskId } from "../../protocol/space/index.ts";

const MiB = 1024 * 1024;
/** What each upload tries to send; the old peer read all of it before answering. */
const UPLOAD = 128 * MiB;

let peer: PeerProcess;
let client: ApiClient;

before(async () => {
  peer = await startPeer();
  client = await peer.api();
});
after(() => stopPeer(peer));

async function rss(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

/**
 * POST `path` with a chunked body of up to `total` bytes, as fast as the
 * connection takes it, until the server answers. Resolves to the status and
 * how many body bytes the connection had taken by then.
 */
async function upload(path: string, authorization: string, total: number): Promise<{ status: number; sent: number }> {
  const url = new URL(client.url);
  const socket: Socket = connect(Number(url.port), url.hostname);
  socket.on("error", () => {}); // the server may close while we still send: that is the point
  await once(socket, "connect");
  let head = "";
  const answered = new Promise<void>((resolve) => {
    socket.on("data", (d) => {
      head += d;
      if (head.includes("\r\n")) resolve();
    });
    socket.on("close", () => resolve());
  });
  let done = false;
  void answered.then(() => (done = true));
  const header = `POST ${path} HTTP/1.1\r\nhost: ${url.host}\r\ncontent-type: application/json\r\n` +
    `authorization: ${authorization}\r\ntransfer-encoding: chunked\r\n\r\n`;
  socket.write(header);
  const start = socket.bytesWritten;
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  const frame = Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from("\r\n")]);
  let sent = 0;
  while (!done && sent < total && !socket.destroyed) {
    if (!socket.write(frame)) await Promise.race([once(socket, "drain").catch(() => {}), answered]);
    sent += frame.length;
  }
  const taken = socket.bytesWritten - start;
  if (!done && !socket.destroyed) socket.write("0\r\n\r\n");
  await answered;
  socket.destroy();
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
  return { status, sent: taken };
}

/** Poll /healthz until `until` settles; resolves to the slowest answer in ms. */
async function slowestHealthz(until: Promise<unknown>): Promise<number> {
  let settled = false;
  void until.finally(() => (settled = true));
  let slowest = 0;
  while (!settled) {
    const t = performance.now();
    const res = await fetch(`${client.url}/healthz`, { signal: AbortSignal.timeout(5_000) });
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    slowest = Math.max(slowest, performance.now() - t);
    await new Promise((r) => setTimeout(r, 25));
  }
  return slowest;
}

it("a task with the longest body its schema allows is taken (its operation is the request's bearer)", async () => {
  const { spaces } = await client.get<{ spaces: Array<{ id: string }> }>("/v1/spaces");
  const task = newTaskId();
  const body = "a long, plain description. ".repeat(1185).slice(0, 32_000);
  await client.op(spaces[0].id, "create", { task, title: "long", body });
  const got = await client.get<{ body: string }>(`/v1/spaces/${encodeURIComponent(spaces[0].id)}/tasks/${task}`);
  assert.equal(got.body, body);
});

it("a chunked upload with a bogus bearer is refused before the peer reads it", async () => {
  const space = (await client.get<{ spaces: Array<{ id: string }> }>("/v1/spaces")).spaces[0].id;
  for (const path of ["/v1/spaces", `/v1/spaces/${encodeURIComponent(space)}/tasks`]) {
    const run = upload(path, "Bearer Cbogus", UPLOAD);
    const slowest = await slowestHealthz(run);
    const { status, sent } = await run;
    assert.equal(status, 401, path);
    assert.ok(sent < UPLOAD / 4, `${path}: the peer took ${sent} bytes before answering`);
    assert.ok(slowest < 1000, `/healthz took ${slowest} ms`);
  }
});

it("an authenticated chunked body over the limit gets 413, and the peer does not grow by it", async () => {
  const before = await rss(peer.child.pid!);
  const bearer = await client.bearer("POST", "/v1/spaces", utf8(JSON.stringify({ name: "big" })));
  const run = upload("/v1/spaces", `Bearer ${bearer}`, UPLOAD);
  const slowest = await slowestHealthz(run);
  const { status, sent } = await run;
  const grown = (await rss(peer.child.pid!)) - before;
  assert.equal(status, 413);
  assert.ok(sent < UPLOAD / 4, `the peer took ${sent} bytes before answering`);
  assert.ok(grown < 32 * MiB, `the peer grew by ${grown} bytes`);
  assert.ok(slowest < 1000, `/healthz took ${slowest} ms`);
  // And it still serves.
  assert.ok((await client.get<{ did: string }>("/v1/node")).did);
});
