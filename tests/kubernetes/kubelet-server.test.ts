/**
 * The virtual node's log endpoint, as the API server calls it: over TLS,
 * only for a client certificate signed by the kubelet client CA (a client
 * without one, or with one from another CA, gets no log), with the
 * backlog, tailLines and follow (lines as they come, the response ending
 * with the log).
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { request } from "node:https";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { kubeletServer } from "../../bridges/kubernetes/virtual-node/kubelet-server.ts";
import { PodLog } from "../../bridges/kubernetes/virtual-node/pod-logs.ts";
import { selfSignedCert } from "../../bridges/kubernetes/virtual-node/serving-cert.ts";
import { kubeletClientCerts } from "../helpers/kube-control-plane.ts";

describe("the virtual node's log endpoint", () => {
  let dir: string;
  let port: number;
  let server: ReturnType<typeof kubeletServer>;
  let client: { cert: Buffer; key: Buffer };
  let stranger: { cert: Buffer; key: Buffer };
  const log = new PodLog();

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "weft-kubelet-"));
    await Promise.all(["ours", "theirs"].map((d) => mkdir(join(dir, d))));
    const ours = await kubeletClientCerts(join(dir, "ours"));
    const theirs = await kubeletClientCerts(join(dir, "theirs"));
    client = { cert: await readFile(ours.cert), key: await readFile(ours.key) };
    stranger = { cert: await readFile(theirs.cert), key: await readFile(theirs.key) };
    const serving = await selfSignedCert(join(dir, "tls"), "weft-test", "127.0.0.1");
    server = kubeletServer(
      { ...serving, clientCa: await readFile(ours.ca) },
      (ns, pod, c) => ns === "ns" && pod === "p" && c === "run" ? log : undefined,
    );
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as AddressInfo).port;
    log.push("one");
    log.push("two");
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await rm(dir, { recursive: true, force: true });
  });

  const get = (path: string, who?: { cert: Buffer; key: Buffer }, onData?: (text: string) => void) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        { host: "127.0.0.1", port, path, rejectUnauthorized: false, ...(who ?? {}) },
        (res) => {
          let body = "";
          res.setEncoding("utf8").on("data", (d: string) => {
            body += d;
            onData?.(d);
          });
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on("error", reject);
      req.end();
    });

  it("serves the log to the API server's client certificate", async () => {
    assert.deepEqual(await get("/containerLogs/ns/p/run", client), { status: 200, body: "one\ntwo\n" });
    assert.deepEqual(await get("/containerLogs/ns/p/run?tailLines=1", client), { status: 200, body: "two\n" });
    assert.equal((await get("/containerLogs/ns/other/run", client)).status, 404);
  });

  it("refuses a client without a certificate, or with one from another CA", async () => {
    await assert.rejects(get("/containerLogs/ns/p/run"));
    await assert.rejects(get("/containerLogs/ns/p/run", stranger));
  });

  it("follows the log until it ends", async () => {
    const following = get("/containerLogs/ns/p/run?follow=true", client, (text) => {
      if (text.includes("two")) log.push("three");
      if (text.includes("three")) log.end();
    });
    assert.deepEqual(await following, { status: 200, body: "one\ntwo\nthree\n" });
  });
});
