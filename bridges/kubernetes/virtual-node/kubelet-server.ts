/**
 * The part of the kubelet API the API server calls on a node to read a
 * container's log (`GET /containerLogs/<namespace>/<pod>/<container>`,
 * with `follow`, `tailLines` and `limitBytes`), served from the virtual
 * node's pod logs over HTTPS. Only the API server may call it: a client
 * must present a certificate signed by `clientCa` (the CA of the API
 * server's --kubelet-client-certificate), as a kubelet requires.
 */
import { createServer, type Server } from "node:https";
import type { ServingCert } from "./serving-cert.ts";
import type { PodLog } from "./pod-logs.ts";

const PATH = /^\/containerLogs\/([a-z0-9.-]{1,253})\/([a-z0-9.-]{1,253})\/([a-z0-9-]{1,63})$/;

export function kubeletServer(
  tls: ServingCert & { clientCa: Buffer },
  logOf: (namespace: string, pod: string, container: string) => PodLog | undefined,
): Server {
  const options = { cert: tls.cert, key: tls.key, ca: tls.clientCa, requestCert: true, rejectUnauthorized: true };
  return createServer(options, (req, res) => {
    const url = new URL(req.url ?? "/", "http://node");
    const m = PATH.exec(url.pathname);
    if (req.method !== "GET" || !m) {
      res.writeHead(url.pathname === "/healthz" ? 200 : 404, { "content-type": "text/plain" });
      res.end(url.pathname === "/healthz" ? "ok" : "not found");
      return;
    }
    const log = logOf(m[1], m[2], m[3]);
    if (!log) {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end(`no container ${m[3]} in pod ${m[1]}/${m[2]} on this node`);
      return;
    }
    const tail = Number(url.searchParams.get("tailLines") ?? NaN);
    let budget = Number(url.searchParams.get("limitBytes") ?? Infinity);
    if (!(budget > 0)) budget = Infinity;
    res.writeHead(200, { "content-type": "text/plain; charset=utf-8" });
    const write = (line: string) => {
      const text = `${line}\n`;
      budget -= Buffer.byteLength(text);
      if (budget < 0) return false;
      res.write(text);
      return true;
    };
    const backlog = Number.isInteger(tail) && tail >= 0 ? log.lines.slice(-tail || log.lines.length) : log.lines;
    for (const line of tail === 0 ? [] : backlog) if (!write(line)) return void res.end();
    if (url.searchParams.get("follow") !== "true" || log.ended) return void res.end();
    const off = log.follow((line) => {
      if (line === undefined || !write(line)) {
        off();
        res.end();
      }
    });
    res.on("close", off);
  });
}
