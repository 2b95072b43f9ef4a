/**
 * The relay benchmark's baseline: the stock automerge-repo WebSocket sync
 * server (published packages only, no membership checks) with the stock
 * nodefs storage, set up as automerge-repo-sync-server sets it up (it serves
 * documents on request and does not push every document to every client),
 * as its own process — the same shape as the relay it is compared with.
 * `node stock-sync-server.ts DIR` prints `port N` and serves until SIGTERM.
 */
import { Buffer } from "node:buffer";
import process from "node:process";
import { Repo } from "@automerge/automerge-repo";
import { WebSocketServerAdapter } from "@automerge/automerge-repo-network-websocket";
import { NodeFSStorageAdapter } from "@automerge/automerge-repo-storage-nodefs";
import { WebSocketServer } from "ws";

const dir = process.argv[2];
if (!dir) {
  process.stderr.write("usage: stock-sync-server.ts DATA_DIR\n");
  process.exit(2);
}
const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
await new Promise((r) => wss.once("listening", r));
const repo = new Repo({
  // Pinging every 30 s as Weft's server does: the stock 5 s drops clients whose process is merely busy.
  network: [new WebSocketServerAdapter(wss as never, 30_000)],
  storage: new NodeFSStorageAdapter(dir),
  sharePolicy: () => Promise.resolve(false),
});
await repo.storageId();

// The bench hands over its documents on stdin, so their URLs come from the server's own repo.
process.stdin.setEncoding("utf8");
let pending = "";
process.stdin.on("data", (chunk: string) => {
  pending += chunk;
  let nl;
  while ((nl = pending.indexOf("\n")) >= 0) {
    const line = pending.slice(0, nl).trim();
    pending = pending.slice(nl + 1);
    // "import B64 …": one document per saved document given (the relay's space documents as their creators
    // left them), so both servers serve the same content and history; its URL is the stock server's own.
    const saved = /^import((?: [A-Za-z0-9+/=]+)+)$/.exec(line);
    if (saved) {
      const urls = saved[1].trim().split(" ").map((b64) =>
        repo.import<Record<string, unknown>>(Uint8Array.from(Buffer.from(b64, "base64"))).url
      );
      process.stdout.write(`docs ${urls.join(" ")}\n`);
    }
  }
});
process.stdout.write(`port ${(wss.address() as { port: number }).port}\n`);
process.once("SIGTERM", async () => {
  await repo.flush();
  process.exit(0);
});
