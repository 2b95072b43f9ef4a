/**
 * How the local `git fetch` reaches the `/weft/git/1` stream this process
 * holds: a `git://` listener on loopback for one fetch, whose URL carries a
 * fresh 128-bit token. git's own transport connects straight to it (no helper
 * or relay process in the pack's path) and opens with its request line,
 * `git-upload-pack /<token>\0host=…\0\0version=2\0`; a connection that
 * names another path (another local process trying its luck) is dropped
 * unread beyond that line, and the listener waits for the right one. The
 * URL goes to git in its environment (GIT_CONFIG_*), which other users
 * cannot read, never on its command line, which they can.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, type Server, type Socket } from "node:net";
import { GitTransferError } from "#protocol/sync";

/** The longest request line git sends (a path and a few parameters). */
const MAX_REQUEST_LINE = 1024;
/** Connections with the wrong opening tolerated before the door gives up. */
const MAX_WRONG = 16;

export interface GitDoor {
  /** git config, as environment variables, naming the remote `weft` at this door. */
  readonly env: Record<string, string>;
  /** The name of the remote git is to fetch from. */
  readonly remote: string;
  /** The first connection that opened with this door's token, and what it sent after its request line. */
  readonly entered: Promise<{ socket: Socket; rest: Uint8Array }>;
  close(): void;
}

/** Open a door on 127.0.0.1 for one `git fetch`. */
export async function openGitDoor(): Promise<GitDoor> {
  const token = randomBytes(16).toString("hex");
  const expected = Buffer.from(`git-upload-pack /${token}\0`);
  // Half-open: git may end its side (after "done") while the pack is still coming.
  const server: Server = createServer({ allowHalfOpen: true, noDelay: true });
  let wrong = 0;
  let closed = false;
  const entered = new Promise<{ socket: Socket; rest: Uint8Array }>((resolve, reject) => {
    server.on("connection", (socket) => {
      let buffer = Buffer.alloc(0);
      const onData = (chunk: Buffer) => {
        buffer = Buffer.concat([buffer, chunk]);
        if (buffer.length < 4) return;
        const length = /^[0-9a-f]{4}$/.test(buffer.subarray(0, 4).toString("latin1"))
          ? parseInt(buffer.subarray(0, 4).toString("latin1"), 16)
          : -1;
        if (length < 4 + expected.length || length > MAX_REQUEST_LINE) return turnAway(socket);
        if (buffer.length < length) return;
        const opening = buffer.subarray(4, 4 + expected.length);
        if (!timingSafeEqual(opening, expected)) return turnAway(socket);
        socket.off("data", onData);
        socket.pause();
        server.close();
        resolve({ socket, rest: buffer.subarray(length) });
      };
      socket.on("data", onData);
      socket.on("error", () => {});
    });
    const turnAway = (socket: Socket) => {
      socket.destroy();
      if (++wrong >= MAX_WRONG) {
        server.close();
        reject(new GitTransferError("git/failed", "too many local connections tried the fetch's git door"));
      }
    };
    server.on("close", () => {
      if (closed) reject(new GitTransferError("git/aborted", "the git door closed before git came"));
    });
  });
  entered.catch(() => {});
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as { port: number };
  return {
    remote: "weft",
    env: {
      GIT_CONFIG_COUNT: "1",
      GIT_CONFIG_KEY_0: "remote.weft.url",
      GIT_CONFIG_VALUE_0: `git://127.0.0.1:${port}/${token}`,
    },
    entered,
    close() {
      closed = true;
      server.close();
    },
  };
}
