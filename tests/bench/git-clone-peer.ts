/**
 * The serving peer of the git-clone bench, in a process of its own: a Weft
 * node on loopback that creates a space, invites the DID given, serves the
 * bare repository given as `bench/repo` over `/weft/git/1`, prints one JSON
 * line {did, addr, invite, space} and runs until its stdin closes.
 *
 *   node git-clone-peer.ts <bare repo> <invitee DID>
 */
import { libp2pNode } from "../helpers/nodes.ts";
import { serveGit } from "../../peer/repo/git-transport.ts";

const [repoPath, invitee] = process.argv.slice(2);
const peer = await libp2pNode();
const space = await peer.node.createSpace("bench");
const invite = await peer.node.invite(space.id, { audience: invitee });
const server = await serveGit(peer.node, {
  resolve: (s, repo) => (s === space.id && repo === "repo" ? repoPath : undefined),
});
console.log(
  JSON.stringify({
    did: peer.node.did,
    addr: peer.node.libp2p!.getMultiaddrs()[0].toString(),
    invite,
    space: space.id,
  }),
);
process.stdin.resume();
process.stdin.on("end", async () => {
  await server.stop();
  await peer.node.stop();
  process.exit(0);
});
