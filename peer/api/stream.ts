/**
 * `/v1/stream`: live events over a WebSocket, as JSON messages — task
 * changes (with the tasks' new state), membership changes and refusals —
 * for the spaces the caller may read.
 */
import type { WeftNode } from "#protocol/node";
import type { WebSocketLike } from "#protocol/sync";

export function serveStream(node: WeftNode, socket: WebSocketLike): void {
  const send = (event: Record<string, unknown>) => {
    if (socket.readyState === 1) socket.send(JSON.stringify(event));
  };
  const stops: Array<() => void> = [];
  for (const space of node.spaces()) {
    stops.push(space.subscribe((e) => {
      if (e.type === "tasks") {
        send({ type: "tasks", space: space.id, tasks: e.tasks.map((id) => space.task(id)).filter(Boolean) });
      } else {
        send({ ...e, space: space.id });
      }
    }));
  }
  stops.push(node.diagnostics.onRefusal((r) => send({ type: "refusal", ...r })));
  send({ type: "hello", node: node.did, spaces: node.spaces().map((s) => s.id) });
  const stop = () => {
    for (const s of stops.splice(0)) s();
  };
  socket.addEventListener("close", stop);
  socket.addEventListener("error", stop);
}
