/**
 * One peer of the git-clone A/B script (git-clone-ab.ts), in a process of
 * its own so each variant runs with its own node flags and its own code:
 * everything Weft is loaded from the checkout given as `root`, so an old
 * commit's worktree can be measured beside the new one in the same run.
 * It counts its main thread's garbage-collection pauses (perf_hooks "gc"
 * entries) and answers, one JSON line per line read on stdin:
 *
 *   node git-clone-ab-peer.ts serve <root> <bare repo> <invitee DID>
 *     prints {did, addr, invite, space, spawner}; then any line → {gcMs, gcCount, gcMajor}
 *   node git-clone-ab-peer.ts ask <root>
 *     prints {did, spawner}; then the serving peer's JSON line → {joined: true};
 *     then `<head> <into>` → {ms}: one clone into `into`; `stats` → {gcMs, gcCount, gcMajor}
 *
 * `spawner` is the pid of the process spawner's helper that starts its git,
 * if that checkout's daemon has one (peer/process/spawner.ts). It ends when
 * its stdin closes.
 */
import { createInterface } from "node:readline";
import { constants, PerformanceObserver } from "node:perf_hooks";
import { join } from "node:path";
import { execFileSync } from "node:child_process";

const [role, root, ...rest] = process.argv.slice(2);
const load = (path: string) => import(join(root, path));
// As that checkout's daemon runs, if it sets V8 flags on itself (peer/run-daemon.ts).
await load("peer/daemon/heap-flags.ts").then((m) => m.tuneHeapForBulkBytes(), () => {});
// Then the variant's own V8 flags (`setFlags`), e.g. "--no-external-memory-accounted-in-global-limit" to undo it.
if (process.env.AB_SET_FLAGS) (await import("node:v8")).setFlagsFromString(process.env.AB_SET_FLAGS);
// As that checkout's daemon starts git, if it has a process spawner.
const spawner: number | undefined = await load("peer/process/spawner.ts").then(async (m) => {
  const shared = m.useSharedSpawner();
  await shared.warm();
  return shared.pid;
}, () => undefined);
const { libp2pNode } = await load("tests/helpers/nodes.ts");
/**
 * A live heap of the variant's `liveMiB` (small objects, about 1 KiB each), as a daemon holding more documents
 * carries: every full collection marks it.
 */
const ballast = Array.from(
  { length: Number(process.env.AB_LIVE_MIB ?? 0) * 1024 },
  (_, i) => ({ i, f: new Array(100).fill(i) }),
);

let gcMs = 0, gcCount = 0, gcMajor = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    gcMs += entry.duration;
    gcCount++;
    if (
      (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR
    ) gcMajor++;
  }
}).observe({ entryTypes: ["gc"] });
const gcStats = () => ({ gcMs, gcCount, gcMajor, ballast: ballast.length });

const peer = await libp2pNode();
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const say = (x: unknown) => console.log(JSON.stringify(x));

if (role === "serve") {
  const [repoPath, invitee] = rest;
  const { serveGit } = await load("peer/repo/git-transport.ts");
  const space = await peer.node.createSpace("bench");
  const invite = await peer.node.invite(space.id, { audience: invitee });
  const server = await serveGit(peer.node, {
    resolve: (s: string, repo: string) => (s === space.id && repo === "repo" ? repoPath : undefined),
  });
  say({ did: peer.node.did, addr: peer.node.libp2p!.getMultiaddrs()[0].toString(), invite, space: space.id, spawner });
  for await (const _ of { [Symbol.asyncIterator]: () => lines }) say(gcStats());
  await server.stop();
} else {
  const { fetchGit } = await load("peer/repo/git-transport.ts");
  const { multiaddr } = await import("@multiformats/multiaddr");
  say({ did: peer.node.did, spawner });
  const opening = JSON.parse(String((await lines.next()).value));
  await peer.node.libp2p!.dial(multiaddr(opening.addr));
  await peer.node.join(opening.invite, { signal: AbortSignal.timeout(30_000) });
  say({ joined: true });
  for await (const line of { [Symbol.asyncIterator]: () => lines }) {
    if (line === "stats") {
      say(gcStats());
      continue;
    }
    const [head, into] = line.split(" ");
    execFileSync("git", ["init", "--quiet", "--bare", into]);
    const start = performance.now();
    await fetchGit(peer.node, { peer: opening.did, space: opening.space, repo: "repo", wants: [head], into });
    say({ ms: performance.now() - start });
  }
}
await peer.node.stop();
process.exit(0);
