/**
 * A stock automerge-repo client as a user runs one: the published Repo and
 * WebSocket client adapter, no Weft code, in a process of its own (on Node
 * the adapter throws when its reconnect is refused, which ends the process,
 * as it would a user's). Usage: stock-sync-client.ts <ws url with token>
 * <automerge url>. Prints a JSON line per event: {"ops": n} whenever the
 * document's `ops` map changes size, {"disconnected": true} when the
 * connection drops. The lines go to file descriptor 3, which the test opens
 * for them: the stock Repo logs its own errors to stdout.
 */
import { writeSync } from "node:fs";
import process from "node:process";
import { Repo } from "@automerge/automerge-repo";
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket";

const [url, documentUrl] = process.argv.slice(2);
const say = (line: Record<string, unknown>) => void writeSync(3, JSON.stringify(line) + "\n");
// Retry every 200 ms rather than the default 5 s, so the test's reconnects are quick.
const adapter = new WebSocketClientAdapter(url, 200);
adapter.on("peer-disconnected", () => say({ disconnected: true }));
const repo = new Repo({ network: [adapter] });
const handle = await repo.find<{ ops?: Record<string, unknown> }>(documentUrl as never);
let last = -1;
const report = () => {
  const ops = Object.keys(handle.doc().ops ?? {}).length;
  if (ops !== last) say({ ops: last = ops });
};
handle.on("change", report);
report();
