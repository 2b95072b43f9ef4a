/**
 * The Radicle bridge carrying one new patch across, each way, against the
 * writes it is made of done directly, in the same run (median of RUNS):
 *
 *   Radicle → Weft: a bridge pass (the storage's patches loaded and verified,
 *                   the head fetched into the Weft copy, a push and a propose
 *                   signed as the bridge) against `git fetch` of the head plus
 *                   a propose signed by the node;
 *   Weft → Radicle: a bridge pass (the space's patches read, the commits
 *                   fetched into the storage, the root change written and
 *                   signed, its branch set, sigrefs re-signed twice) against
 *                   `git fetch` plus the same root change written directly.
 *
 * One peer in process (a memory node), real git, the bridge's own
 * `syncPatches` as the daemon runs it; passes are called, not polled. A
 * pass also reconciles every patch linked before (4 per run), as in the
 * daemon, so the later runs carry more.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateSeed, nobleSigner, nobleVerifier } from "../../protocol/identity/index.ts";
import { hostBridge } from "../../protocol/bridge/context.ts";
import { Commands } from "../../protocol/ucan/commands.ts";
import { PATCH_FAMILY, type PatchReducer } from "../../protocol/patch/index.ts";
import { newTaskId } from "../../protocol/space/space.ts";
import { nativeSigner } from "../../peer/crypto/native-signer.ts";
import { RadicleRepository } from "../../bridges/radicle/repository.ts";
import { GitRepo } from "../../bridges/radicle/git-plumbing.ts";
import { LinkStore } from "../../bridges/radicle/link-store.ts";
import { syncPatches } from "../../bridges/radicle/patch-sync.ts";
import { openPatchActions, PATCH_TYPE, relatedOf } from "../../bridges/radicle/patch-cob.ts";
import { memoryNode } from "../helpers/nodes.ts";
import { initBare } from "../helpers/git-repos.ts";
import { report } from "./report.ts";

const BENCH = "radicle-patch";
const RUNS = Number(process.env.WEFT_RADICLE_PATCH_RUNS ?? 7);
const run = promisify(execFile);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const quiet = { info() {}, warn() {}, error() {} };

const dir = await mkdtemp(join(tmpdir(), "weft-radpatch-bench-"));
const a = await memoryNode();
try {
  const space = await a.node.createSpace("bench");
  await space.perform(Commands.repoCreate, { repo: "app", defaultBranch: "main" });
  const bridge = nativeSigner(generateSeed());
  for (const command of [Commands.patchPropose, Commands.patchReview, Commands.patchClose, Commands.repoPush]) {
    await space.invite({ audience: bridge.did, command, kind: "agent", name: "radicle" });
  }
  // Work: a main commit and one commit per patch, each way and for each baseline.
  const work = join(dir, "work");
  await run("git", ["init", "-q", "-b", "main", work]);
  const env = {
    ...process.env,
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_AUTHOR_NAME: "bench",
    GIT_AUTHOR_EMAIL: "bench@weft.invalid",
    GIT_COMMITTER_NAME: "bench",
    GIT_COMMITTER_EMAIL: "bench@weft.invalid",
  };
  const inWork = async (...args: string[]) => (await run("git", ["-C", work, ...args], { env })).stdout.trim();
  const commit = async (name: string, from?: string) => {
    if (from) await inWork("checkout", "-q", "-B", name, from);
    await inWork("commit", "-q", "--allow-empty", "-m", name);
    return await inWork("rev-parse", "HEAD");
  };
  const main = await commit("main");
  const copy = initBare(join(dir, "copy.git"));
  await run("git", ["--git-dir", copy, "fetch", "-q", work, `${main}:refs/heads/main`]);
  const storage = join(dir, "storage.git");
  const alice = (await RadicleRepository.init(
    storage,
    { name: "app", description: "", defaultBranch: "main", delegates: [bridge.did] },
    { signer: nobleSigner(generateSeed()), verifier: nobleVerifier(), alias: "alice" },
  )).repo;
  await run("git", ["--git-dir", storage, "fetch", "-q", work, main]);
  const hosted = hostBridge({ name: "radicle", node: a.node, signer: bridge, log: quiet });
  const links = await LinkStore.open(join(dir, "links.json"));
  const context = {
    repo: RadicleRepository.open(storage, { signer: bridge, verifier: nobleVerifier(), alias: "weft" }),
    space: hosted.context.space(space.id)!,
    links,
    did: bridge.did,
    log: quiet,
    warnOnce: (_k: string, m: string, f: Record<string, unknown>) => console.error(m, f),
    weftRepo: "app",
    weftCopy: new GitRepo(copy),
  };
  const pass = () => syncPatches(context);
  await pass(); // warm: nothing to carry

  const fromRadicle: number[] = [], fromRadicleRaw: number[] = [], fromWeft: number[] = [], fromWeftRaw: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    // Radicle → Weft.
    const head = await commit(`r${i}`, main);
    await run("git", ["--git-dir", storage, "fetch", "-q", work, head]);
    const actions = openPatchActions(`radicle ${i}`, "", main, head);
    const id = await alice.create(PATCH_TYPE, "Create patch", actions, relatedOf(actions));
    let t = performance.now();
    await pass();
    fromRadicle.push(performance.now() - t);
    if (!space.log.state<PatchReducer>(PATCH_FAMILY).patches.has(id)) throw new Error("not carried");
    const rawHead = await commit(`rr${i}`, main);
    t = performance.now();
    await run("git", ["--git-dir", copy, "fetch", "-q", "--no-write-fetch-head", work, rawHead]);
    await space.perform(Commands.patchPropose, {
      patch: newTaskId(),
      repo: "app",
      target: "refs/heads/main",
      base: main,
      head: rawHead,
      title: `raw ${i}`,
    });
    fromRadicleRaw.push(performance.now() - t);
    await pass(); // carry the raw one over, out of the timings

    // Weft → Radicle.
    const weftHead = await commit(`w${i}`, main);
    await run("git", ["--git-dir", copy, "fetch", "-q", "--no-write-fetch-head", work, weftHead]);
    await space.perform(Commands.patchPropose, {
      patch: newTaskId(),
      repo: "app",
      target: "refs/heads/main",
      base: main,
      head: weftHead,
      title: `weft ${i}`,
    });
    const before = (await alice.objects(PATCH_TYPE)).length;
    t = performance.now();
    await pass();
    fromWeft.push(performance.now() - t);
    if ((await alice.objects(PATCH_TYPE)).length !== before + 1) throw new Error("not carried");
    const direct = await commit(`wr${i}`, main);
    t = performance.now();
    await run("git", ["--git-dir", storage, "fetch", "-q", "--no-write-fetch-head", work, direct]);
    const open = openPatchActions(`direct ${i}`, "", main, direct);
    await alice.create(PATCH_TYPE, "Create patch", open, relatedOf(open));
    fromWeftRaw.push(performance.now() - t);
    await pass(); // carry the direct one over, out of the timings
  }
  report({
    bench: BENCH,
    metric: "Radicle patch carried to Weft (one pass)",
    value: median(fromRadicle),
    unit: "ms",
    baseline: median(fromRadicleRaw),
    note: `median of ${RUNS}; baseline: git fetch of the head + a propose signed by the node`,
  });
  report({
    bench: BENCH,
    metric: "Weft patch carried to Radicle (one pass)",
    value: median(fromWeft),
    unit: "ms",
    baseline: median(fromWeftRaw),
    note: `median of ${RUNS}; baseline: git fetch of the head + the same root change written directly`,
  });
  hosted.detach();
  context.repo.git.close();
  alice.git.close();
} finally {
  await a.node.stop();
  await rm(dir, { recursive: true, force: true });
}
