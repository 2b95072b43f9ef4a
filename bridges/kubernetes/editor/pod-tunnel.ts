/**
 * A connection to a pod's port through the API server's port-forward
 * (`pods/portforward`, WebSocket, `v4.channel.k8s.io`) as one Duplex — what
 * `kubectl port-forward` does for one connection. The pod needs no network
 * and no Service: the API server reaches its node's kubelet (a Weft virtual
 * node's, or a real one), and the caller needs `create` on `pods/portforward`.
 * A peer's editor origin (peer/api/editor-origin.ts) sends HTTP over it.
 */
import { Duplex } from "node:stream";
import { WebSocket } from "ws";
import { WeftError } from "#protocol";
import type { Cluster } from "../cluster.ts";

const PROTOCOL = "v4.channel.k8s.io";
/** How long the API server and the node may take to open a port-forward. */
const HANDSHAKE_MS = 15_000;

/** Open one connection to `port` of pod `namespace/name`; rejects when the API server or the node refuses it. */
export async function podConnection(cluster: Cluster, namespace: string, name: string, port: number): Promise<Duplex> {
  const base = new URL(cluster.server);
  base.protocol = base.protocol === "https:" ? "wss:" : "ws:";
  const url = new URL(
    `${base.pathname.replace(/\/$/, "")}/api/v1/namespaces/${namespace}/pods/${name}/portforward?ports=${port}`,
    base,
  );
  const tls: Record<string, unknown> = {};
  await cluster.kc.applyToHTTPSOptions(tls);
  const ws = new WebSocket(url, [PROTOCOL], { ...tls, perMessageDeflate: false, handshakeTimeout: HANDSHAKE_MS });
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
    ws.once("unexpected-response", (_req, res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => body = (body + c).slice(0, 512));
      res.on("end", () =>
        reject(
          new WeftError(
            "KubernetesError",
            "kubernetes/api",
            `port-forward to pod ${namespace}/${name}:${port} was refused (${res.statusCode}): ${body.trim()}`,
          ),
        ));
    });
  });
  return tunnel(ws);
}

/** The WebSocket's data channel 0 as a byte stream; channel 1's text (the node's error) fails it. */
function tunnel(ws: WebSocket): Duplex {
  // The first frame on each channel names the port: not data.
  const named = [false, false];
  const duplex = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, done) {
      const out = Buffer.allocUnsafe(chunk.length + 1);
      out[0] = 0;
      out.set(chunk, 1);
      ws.send(out, done);
    },
    final(done) {
      ws.close();
      done();
    },
    destroy(err, done) {
      ws.terminate();
      done(err);
    },
  });
  ws.on("message", (data: Buffer) => {
    const channel = data[0];
    if (channel !== 0 && channel !== 1) return;
    if (!named[channel]) {
      named[channel] = true;
      return;
    }
    if (channel === 0) duplex.push(data.subarray(1));
    else if (data.length > 1) duplex.destroy(new Error(`the pod's port: ${data.subarray(1).toString()}`));
  });
  ws.on("close", () => duplex.push(null));
  ws.on("error", (e) => duplex.destroy(e));
  return duplex;
}
