/**
 * The serving peer of the git-clone bench, in a process of its own: a Weft
 * node on loopback that creates a space, invites the DID given, serves the
 * bare repository given as `bench/repo` over `/weft/git/1`, prints one JSON
 * line {did, addr, invite, space, spawner} and runs until its stdin closes.
 * It also sends SOURCE_BYTES of zeros on each `/weft-bench/source/1` stream
 * opened to it: the bare libp2p stream (noise, yamux) the pack rides on, as
 * a ceiling. As the daemon does, it starts git through its process spawner,
 * whose pid is `spawner` (git's CPU is counted under it).
 *
 *   node git-clone-peer.ts <bare repo> <invitee DID>
 */
import { libp2pNode } from "../helpers/nodes.ts";
import { serveGit } from "../../peer/repo/git-transport.ts";
import { tuneHeapForBulkBytes } from "../../peer/daemon/heap-flags.ts";
import { useSharedSpawner } from "../../peer/process/spawner.ts";

// As the daemon runs (peer/run-daemon.ts, peer/daemon/daemon.ts).
tuneHeapForBulkBytes();
const spawner = useSharedSpawner();
await spawner.warm();

const [repoPath, invitee] = process.argv.slice(2);
const peer = await libp2pNode();
const space = await peer.node.createSpace("bench");
const invite = await peer.node.invite(space.id, { audience: invitee });
const server = await serveGit(peer.node, {
  resolve: (s, repo) => (s === space.id && repo === "repo" ? repoPath : undefined),
});
/** Bytes sent on each source stream: as many as the bench's repository pack. */
const SOURCE_BYTES = Number(process.env.SOURCE_BYTES);
await peer.node.libp2p!.handle("/weft-bench/source/1", async (stream) => {
  const chunk = new Uint8Array(64 * 1024);
  for (let sent = 0; sent < SOURCE_BYTES; sent += chunk.length) {
    if (!stream.send(chunk.subarray(0, Math.min(chunk.length, SOURCE_BYTES - sent)))) await stream.onDrain();
  }
  await stream.close();
});
console.log(
  JSON.stringify({
    did: peer.node.did,
    addr: peer.node.libp2p!.getMultiaddrs()[0].toString(),
    invite,
    space: space.id,
    spawner: spawner.pid,
  }),
);
process.stdin.resume();
process.stdin.on("end", async () => {
  await server.stop();
  await peer.node.stop();
  process.exit(0);
});
