/**
 * The kubelet's port-forward endpoint (`/portForward/<namespace>/<pod>`,
 * WebSocket, `v4.channel.k8s.io`), which the API server calls for
 * `kubectl port-forward` and client-node's PortForward: the way into a pod
 * that is cut off from every network. A pod on a Weft virtual node serves a
 * port as the Unix socket `<PORTS_DIR>/<port>` (bridges/containers/backend.ts);
 * each WebSocket is one connection to it. Channel 2i carries port i's data,
 * 2i+1 its errors; the first frame on each names the port (2 bytes, little
 * endian), as a kubelet sends it. It is reached only through the kubelet
 * server, whose TLS admits only the API server's client certificate.
 */
import type { IncomingMessage } from "node:http";
import type { Server } from "node:https";
import { connect, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import { type WebSocket, WebSocketServer } from "ws";

const PATH = /^\/portForward\/([a-z0-9.-]{1,253})\/([a-z0-9.-]{1,253})(?:\/[0-9a-f-]{1,64})?$/;
const PROTOCOL = "v4.channel.k8s.io";
/** The most ports one request forwards (kubectl asks for one per connection). */
const MAX_PORTS = 8;

/** The host path of the Unix socket serving `port` of a pod on this node, or undefined (no such pod or port). */
export type PortSocketOf = (namespace: string, pod: string, port: number) => string | undefined;

function refuse(socket: Duplex, status: number, text: string): void {
  socket.end(
    `HTTP/1.1 ${status} ${status === 404 ? "Not Found" : "Bad Request"}\r\n` +
      `content-type: text/plain\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`,
  );
}

/**
 * The ports a request names, or a reason it names none well: `?port=8080&port=9090` as the API server asks a
 * kubelet (also `?ports=8080,9090`, as a pod's portforward subresource is asked).
 */
export function requestedPorts(url: URL): number[] | string {
  const ports = [...url.searchParams.getAll("port"), ...url.searchParams.getAll("ports")]
    .flatMap((p) => p.split(",")).map((p) => p.trim());
  if (ports.length === 0) return "name the ports to forward (?port=8080)";
  if (ports.length > MAX_PORTS) return `at most ${MAX_PORTS} ports at once`;
  const numbers = ports.map((p) => /^\d{1,5}$/.test(p) ? Number(p) : NaN);
  if (numbers.some((n) => !(n >= 1 && n <= 65535))) return "ports are whole numbers from 1 to 65535";
  return numbers;
}

/** Serve port-forward WebSockets on the kubelet server `server`. */
export function servePortForward(server: Server, socketOf: PortSocketOf): void {
  const wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (offered) => offered.has(PROTOCOL) ? PROTOCOL : false,
  });
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? "/", "http://node");
    const m = PATH.exec(url.pathname);
    if (!m) return refuse(socket, 404, "not found");
    const ports = requestedPorts(url);
    if (typeof ports === "string") return refuse(socket, 400, ports);
    const paths = ports.map((p) => socketOf(m[1], m[2], p));
    if (paths.some((p) => p === undefined)) {
      return refuse(socket, 404, `pod ${m[1]}/${m[2]} on this node serves no such port`);
    }
    wss.handleUpgrade(req, socket, head, (ws) => forward(ws, ports, paths as string[]));
  });
  server.on("close", () => wss.close());
}

function frame(channel: number, data: Uint8Array | string): Buffer {
  const body = typeof data === "string" ? Buffer.from(data) : data;
  const out = Buffer.allocUnsafe(body.length + 1);
  out[0] = channel;
  out.set(body, 1);
  return out;
}

function forward(ws: WebSocket, ports: number[], paths: string[]): void {
  const conns: Socket[] = paths.map((path, i) => {
    const port = Buffer.from([ports[i] & 0xff, ports[i] >> 8]);
    ws.send(frame(2 * i, port));
    ws.send(frame(2 * i + 1, port));
    const conn = connect(path);
    conn.on("data", (chunk) => ws.send(frame(2 * i, chunk)));
    conn.on("error", (e) => {
      if (ws.readyState === ws.OPEN) ws.send(frame(2 * i + 1, `port ${ports[i]}: ${e.message}`));
      ws.close();
    });
    conn.on("end", () => ws.close());
    return conn;
  });
  ws.on("message", (data: Buffer, binary: boolean) => {
    const bytes = binary ? data : Buffer.from(data.toString());
    const channel = bytes[0];
    if (channel === undefined || channel % 2 !== 0 || channel / 2 >= conns.length) return;
    conns[channel / 2].write(bytes.subarray(1));
  });
  ws.on("close", () => {
    for (const c of conns) c.destroy();
  });
  ws.on("error", () => ws.terminate());
}
