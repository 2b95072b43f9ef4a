/**
 * A real Nostr relay on loopback for tests: @nostr-relay/core with its SQLite
 * event repository (handed a database opened with better-sqlite3 13; the
 * repository's own pinned 11 does not run under Node 24) behind a `ws`
 * server on a port it picks. `refuse` makes it turn events down as a relay
 * may (full, rate-limited, blocked); `close()` stops it.
 */
import Database from "better-sqlite3";
import { WebSocketServer } from "ws";
import { NostrRelay } from "@nostr-relay/core";
import { EventRepositorySqlite } from "@nostr-relay/event-repository-sqlite";

export interface TestRelay {
  url: string;
  /** Events the relay has accepted, by kind (for assertions on what was published). */
  count(kind: number): number;
  /** Set to turn events down: the reason it gives (`["OK", id, false, reason]`), or undefined to take it. */
  refuse?: (event: { id: string; kind: number; tags: string[][] }) => string | undefined;
  close(): Promise<void>;
}

/** A relay on `port` (0: one it picks) keeping its events in `file`; the same file and port make it a restart. */
export async function startRelay(file = ":memory:", port = 0): Promise<TestRelay> {
  const db = new Database(file);
  const repository = new EventRepositorySqlite(db as never);
  await repository.init();
  const relay = new NostrRelay(repository, { logLevel: 4 as never });
  const wss = new WebSocketServer({ host: "127.0.0.1", port });
  const handle: Pick<TestRelay, "refuse"> = {};
  wss.on("connection", (ws) => {
    relay.handleConnection(ws as never);
    ws.on("message", (data) => {
      let message: unknown;
      try {
        message = JSON.parse(data.toString());
      } catch {
        return;
      }
      const event = Array.isArray(message) && message[0] === "EVENT" ? message[1] : undefined;
      const refused = event && handle.refuse?.(event);
      if (refused) return void ws.send(JSON.stringify(["OK", event.id, false, refused]));
      void relay.handleMessage(ws as never, message as never);
    });
    ws.on("close", () => relay.handleDisconnect(ws as never));
    ws.on("error", () => relay.handleDisconnect(ws as never));
  });
  await new Promise<void>((resolve) => wss.once("listening", () => resolve()));
  return Object.assign(handle, {
    url: `ws://127.0.0.1:${(wss.address() as { port: number }).port}`,
    count: (kind: number) =>
      (db.prepare("SELECT COUNT(*) AS n FROM events WHERE kind = ?").get(kind) as { n: number }).n,
    async close() {
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await relay.destroy();
      await repository.destroy?.();
      db.close();
    },
  });
}
