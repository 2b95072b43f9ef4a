/**
 * Listening for an HTTP server through several sockets on one port, so that
 * a busy server still accepts connections as fast as they arrive.
 *
 * libuv accepts one connection per listening socket per turn of the event
 * loop (libuv/libuv#3696, in every Node since 20). A relay busy syncing on a
 * loaded machine turns 20–50 times a second, so it accepted no faster than
 * that, and new connections waited in the kernel's queue behind whatever came
 * first: beside 200 hostile sockets that reconnect every second, 100–240
 * connections stood in that queue and good clients waited 1.1–3.8 s to be
 * accepted, past the stock automerge-repo client's one second to hear the
 * server answer its join (tests/relay/load.peer-test.ts). Here ACCEPTORS
 * sockets listen on the port with SO_REUSEPORT — the HTTP server's own and
 * others that hand it what they accept; the kernel spreads new connections
 * over their queues and each turn accepts up to one from each.
 *
 * The port is first claimed by a plain (exclusive) socket, so a port that
 * another process holds — even another Weft node listening the same way — is
 * refused as taken instead of silently shared. Where SO_REUSEPORT does not
 * spread connections (other than Linux) or the HTTP server cannot be handed
 * connections (Deno's node:http, which does its own accepting), the server
 * listens by itself. Node has `reusePort` from 22.12 (Weft needs 22.18).
 */
import { createServer, type Server, type Socket } from "node:net";
import process from "node:process";

/**
 * Listening sockets per server where they help; each adds one accept per turn of the event loop. Beside 200
 * hostile sockets on a machine at load 12–15, 8 still left 100+ connections waiting in their queues (ss -ltn);
 * 32 left at most 16. A listening socket costs a descriptor and nothing while idle.
 */
export const ACCEPTORS = 32;

export interface Listening {
  /** The port bound (the one asked for, or the one the system chose for 0). */
  port: number;
  /** Stop accepting, and resolve once every connection accepted here has closed. */
  close(): Promise<void>;
}

/** How many sockets listen for a server on this runtime and platform. */
export function acceptorCount(): number {
  const deno = (globalThis as { Deno?: unknown }).Deno !== undefined;
  return process.platform === "linux" && !deno ? ACCEPTORS : 1;
}

function listen(server: Server, options: { host: string; port: number; reusePort?: boolean }): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options, () => {
      server.off("error", reject);
      const address = server.address();
      resolve(typeof address === "object" && address ? address.port : options.port);
    });
  });
}

function closed(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/**
 * Listen for `server` on host:port through `count` sockets (acceptorCount() by default): the server's own,
 * and count - 1 more that hand it what they accept.
 */
export async function listenFor(
  server: Server,
  host: string,
  port: number,
  count = acceptorCount(),
): Promise<Listening> {
  if (count <= 1) {
    const bound = await listen(server, { host, port });
    return { port: bound, close: () => closed(server) };
  }
  // Claimed exclusively first: a reuse-port bind would share a port another such socket holds.
  const probe = createServer();
  const bound = await listen(probe, { host, port });
  await closed(probe);
  await listen(server, { host, port: bound, reusePort: true });
  const more: Server[] = [];
  const hand = (socket: Socket) => server.emit("connection", socket);
  try {
    for (let i = 1; i < count; i++) {
      // As node:http's own listening socket does: no Nagle delay on what it accepts.
      const acceptor = createServer({ noDelay: true }, hand);
      more.push(acceptor);
      await listen(acceptor, { host, port: bound, reusePort: true });
    }
  } catch (e) {
    await Promise.all([server, ...more].filter((s) => s.listening).map(closed));
    throw e;
  }
  return {
    port: bound,
    close: async () => {
      await Promise.all([...more, server].map(closed));
    },
  };
}
