/**
 * The process spawner's helper (spawner.ts): a small process the peer
 * starts once, which forks and execs commands on the peer's behalf. A fork
 * copies the forking process's page tables and leaves its memory
 * copy-on-write, so in a peer holding a gigabyte it blocks the event loop
 * for ~45 ms and makes every page the peer writes next fault once; forked
 * from this ~60 MB process it costs about one millisecond.
 *
 * The commands' stdin and stdout are not relayed: the peer connects two
 * Unix sockets to this helper's listening socket (in a directory only its
 * user can enter), each opened with a token the spawn request names, and
 * the command gets the accepted ends as its stdin and stdout, so its bytes
 * go straight between it and the peer. Its stderr is read here, keeping a
 * bounded tail that goes back with its exit.
 *
 *   node spawner-helper.ts <socket path>
 *
 * IPC messages (JSON) in: spawn, kill; out: listening, spawned, failed,
 * exited (spawner-messages.ts). When the peer goes (the IPC channel
 * closes), every command still running is killed with its process group.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { dirname } from "node:path";
import process from "node:process";
import { killChildGroup } from "./kill-group.ts";
import {
  type HelperMessage,
  isSpawnerRequest,
  SOCKET_WAIT_MS,
  type SpawnRequest,
  TOKEN_BYTES,
} from "./spawner-messages.ts";

const [socketPath] = process.argv.slice(2);

/** Say something to the peer; a peer already gone hears nothing (and "disconnect" ends this process). */
function say(message: HelperMessage): void {
  if (process.connected) process.send!(message);
}

/** Accepted sockets by their token (hex), until the request naming them arrives. */
const sockets = new Map<string, Socket>();
/** Spawn requests waiting for their two sockets, by id. */
const waiting = new Map<number, { request: SpawnRequest; timer: ReturnType<typeof setTimeout> }>();
/** Commands running, by request id. */
const running = new Map<number, ChildProcess>();

/** Read a connection's token (its first TOKEN_BYTES bytes, nothing after them), then hold it for its request. */
function accept(socket: Socket): void {
  let got = Buffer.alloc(0);
  const timer = setTimeout(() => socket.destroy(), SOCKET_WAIT_MS);
  socket.on("error", () => {});
  const onData = (chunk: Buffer) => {
    got = Buffer.concat([got, chunk]);
    if (got.length < TOKEN_BYTES) return;
    socket.off("data", onData);
    socket.pause();
    // Bytes past the token would be the command's input, read here and lost: the peer writes none before "spawned".
    if (got.length > TOKEN_BYTES) return socket.destroy();
    const token = got.toString("hex");
    clearTimeout(timer);
    sockets.set(token, socket);
    socket.once("close", () => {
      if (sockets.get(token) === socket) sockets.delete(token);
    });
    for (const { request } of waiting.values()) {
      if (request.stdin === token || request.stdout === token) return start(request);
    }
  };
  socket.on("data", onData);
}

/** Start `request`'s command once both its sockets are here. */
function start(request: SpawnRequest): void {
  const stdin = sockets.get(request.stdin), stdout = sockets.get(request.stdout);
  if (!stdin || !stdout) return;
  sockets.delete(request.stdin);
  sockets.delete(request.stdout);
  clearTimeout(waiting.get(request.id)?.timer);
  waiting.delete(request.id);
  let child: ChildProcess;
  try {
    child = spawn(request.command, request.args, {
      env: request.env,
      ...(request.cwd === undefined ? {} : { cwd: request.cwd }),
      stdio: [stdin, stdout, "pipe"],
      detached: true,
    });
  } catch (e) {
    say({ op: "failed", id: request.id, message: (e as Error).message });
    return;
  } finally {
    // The command holds its own copies; ours are closed before anything could be read from them here.
    stdin.destroy();
    stdout.destroy();
  }
  let tail = "";
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (text: string) => {
    tail = (tail + text).slice(-request.stderrTail);
  });
  child.on("error", (e) => {
    tail = `${tail}\n${e.message}`.slice(-request.stderrTail);
  });
  if (child.pid === undefined) {
    child.on("close", () => say({ op: "failed", id: request.id, message: tail.trim() || "the command did not start" }));
    return;
  }
  running.set(request.id, child);
  say({ op: "spawned", id: request.id, pid: child.pid });
  child.on("close", (code, signal) => {
    running.delete(request.id);
    say({ op: "exited", id: request.id, code, signal, stderr: tail });
  });
}

const server = createServer(accept);
server.on("error", (e) => {
  process.stderr.write(`weft process spawner: ${e.message}\n`);
  process.exit(1);
});
server.listen(socketPath, () => say({ op: "listening" }));

process.on("message", (message: unknown) => {
  if (!isSpawnerRequest(message)) return;
  if (message.op === "kill") {
    const child = running.get(message.id);
    if (child) killChildGroup(child);
    return;
  }
  waiting.set(message.id, {
    request: message,
    timer: setTimeout(() => {
      waiting.delete(message.id);
      say({ op: "failed", id: message.id, message: "the process spawner's sockets did not arrive" });
    }, SOCKET_WAIT_MS),
  });
  start(message);
});

// The peer is gone: nothing it started outlives it here, and the socket's directory goes too.
process.on("disconnect", () => {
  for (const child of running.values()) killChildGroup(child);
  server.close();
  rmSync(dirname(socketPath), { recursive: true, force: true });
  process.exit(0);
});
