/**
 * Hostile sockets against a sync endpoint, in a process of their own, for
 * the relay's load test and hostile-load bench: a third announce a frame
 * bigger than a handshake may be (a frame header claiming twice the limit,
 * then its first 64 KiB: a server that waits for the rest holds it, one
 * that reads the header closes at once), a third are slowloris (an HTTP upgrade
 * trickled a byte a second, never finished), a third send garbage frames.
 * Each starts over a second after the server closes it. They come from
 * many loopback addresses, as many as the per-address cap lets through,
 * so it is the server's other limits that are tried.
 * `node hostile-sockets.ts WS_URL COUNT` says "ready" (IPC) once every
 * socket has connected (or been refused) once, and stops on SIGTERM or
 * after MAX_RUN_MS on its own.
 */
import { connect, type Socket } from "node:net";
import process from "node:process";
import { WebSocket } from "ws";
import { DEFAULT_ADMISSION } from "../../peer/http/ws-admission.ts";

const MAX_RUN_MS = 10 * 60_000;
const PAUSE_MS = 1_000;
const OVERSIZED_BYTES = DEFAULT_ADMISSION.maxPayload * 2;
/** Sockets per source address: below the per-address cap, so none is refused for that alone. */
const PER_ADDRESS = DEFAULT_ADMISSION.perAddress - 4;

const [url, countArg] = process.argv.slice(2);
const count = Number(countArg);
if (!url || !Number.isInteger(count) || count < 1) {
  process.stderr.write("usage: hostile-sockets.ts WS_URL COUNT\n");
  process.exit(2);
}
const target = new URL(url);
let stopped = false;
const open = new Set<{ close(): void }>();

/**
 * One hostile socket of `kind` from `address`, started over after each
 * close until stopped; `connected` is called once it connected or failed to.
 */
function attack(kind: number, address: string, connected: () => void): void {
  const again = () => {
    connected();
    if (!stopped) setTimeout(() => attack(kind, address, () => {}), PAUSE_MS);
  };
  if (kind === 0) return oversized(address, connected, again);
  if (kind === 1) return slowloris(address, connected, again);
  const ws = new WebSocket(url, { localAddress: address });
  const handle = { close: () => ws.terminate() };
  open.add(handle);
  ws.on("error", () => {});
  ws.once("close", () => {
    open.delete(handle);
    again();
  });
  ws.once("open", () => {
    connected();
    const garbage = setInterval(() => {
      if (ws.readyState === WebSocket.OPEN) ws.send(crypto.getRandomValues(new Uint8Array(256)));
    }, 100);
    ws.once("close", () => clearInterval(garbage));
  });
}

/** The headers of a WebSocket upgrade, unfinished (no blank line). */
const UPGRADE = `GET ${target.pathname} HTTP/1.1\r\nHost: ${target.host}\r\nUpgrade: websocket\r\n` +
  `Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${"A".repeat(22)}==\r\n`;

/** A raw TCP connection from `address`, tracked until it closes. */
function tcp(address: string, done: () => void): Socket {
  const socket = connect({ host: target.hostname, port: Number(target.port), localAddress: address });
  const handle = { close: () => socket.destroy() };
  open.add(handle);
  socket.on("error", () => {});
  socket.once("close", () => {
    open.delete(handle);
    done();
  });
  return socket;
}

/** Upgrade, then send the header of a binary frame twice the size allowed and its first 64 KiB (masked, as a client must). */
function oversized(address: string, connected: () => void, done: () => void): void {
  const socket = tcp(address, done);
  socket.once("connect", () => {
    connected();
    socket.write(UPGRADE + "\r\n");
  });
  let answered = false;
  socket.on("data", () => {
    if (answered) return;
    answered = true;
    const header = new Uint8Array(14);
    header[0] = 0x82; // FIN, binary
    header[1] = 0x80 | 127; // masked, 64-bit length
    new DataView(header.buffer).setBigUint64(2, BigInt(OVERSIZED_BYTES));
    socket.write(header);
    socket.write(new Uint8Array(64 * 1024));
  });
}

/** An upgrade request sent a byte a second, never finished. */
function slowloris(address: string, connected: () => void, done: () => void): void {
  const request = UPGRADE + "X-Slow: ";
  const socket = tcp(address, done);
  let i = 0;
  let drip: ReturnType<typeof setInterval> | undefined;
  socket.once("connect", () => {
    connected();
    drip = setInterval(() => socket.write(i < request.length ? request[i++] : "x"), 1_000);
  });
  socket.once("close", () => clearInterval(drip));
}

let waiting = count;
for (let i = 0; i < count; i++) {
  let first = true;
  attack(i % 3, `127.0.1.${1 + Math.floor(i / PER_ADDRESS)}`, () => {
    if (first && --waiting === 0) process.send?.("ready");
    first = false;
  });
}

const stop = () => {
  stopped = true;
  for (const s of open) s.close();
  process.exit(0);
};
process.once("SIGTERM", stop);
setTimeout(stop, MAX_RUN_MS).unref();
