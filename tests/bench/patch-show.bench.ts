/**
 * Opening a big patch in the CLI: `weft patch show` of a patch with 50
 * revisions and 500 anchored review comments, wall time from spawn to exit
 * of a fresh process (what a user waits for), median over alternating
 * rounds. Baseline, in the same run: `weft task show` of a task carrying
 * the same 500 comments — the same CLI and API path for an object of the
 * same size, so the ratio is what the patch itself costs (its reduction,
 * the merge gate's judgement, the rendering).
 */
import { execFile, spawn } from "node:child_process";
import { promisify } from "node:util";
import { multiaddr } from "@multiformats/multiaddr";
import { loadCredentials } from "../../peer/api/credentials.ts";
import { Commands } from "../../protocol/ucan/commands.ts";
import { eventually, libp2pNode } from "../helpers/nodes.ts";
import process from "node:process";
import { percentile, report } from "./report.ts";
import { appReady, openProfile } from "../e2e/chromium.ts";
import { ensurePwaBuilt } from "../e2e/pwa-build.ts";
import { startPeer, stopPeer } from "../helpers/peer-process.ts";
import { newTaskId } from "../../protocol/space/space.ts";
import type { Patch } from "../../protocol/patch/state.ts";
import type { TaskView } from "../../protocol/tasks/query.ts";

const BENCH = "patch-show";
const CLI = new URL("../../peer/cli/weft.js", import.meta.url).pathname;
const ROUNDS = 11;
const PWA_ROUNDS = 7;
const REVISIONS = 50;
const COMMENTS = 500;

const commit = (n: number) => n.toString(16).padStart(8, "0").repeat(5);
const text = (i: number) => `comment ${i}: this line reads the length before checking it, so a short frame overflows`;

/** Wall time of one fresh process, in ms, and the bytes it printed; rejects if it fails. */
function timed(args: string[], env: Record<string, string>): Promise<{ ms: number; bytes: number }> {
  const start = performance.now();
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let bytes = 0;
  let err = "";
  child.stdout.on("data", (d: Buffer) => (bytes += d.length));
  child.stderr.on("data", (d) => (err += d));
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => {
      if (code === 0) resolve({ ms: performance.now() - start, bytes });
      else reject(new Error(`${args.join(" ")} exited ${code}: ${err}`));
    });
  });
}

const peer = await startPeer();
try {
  const api = await peer.api();
  const space = (await api.get<{ spaces: Array<{ id: string }> }>("/v1/spaces")).spaces[0].id;
  // The repository the patch is for, created by a member node (the API has no repository route yet).
  const member = await libp2pNode();
  const { stdout: invite } = await promisify(execFile)(process.execPath, [
    CLI,
    "space",
    "invite",
    "--to",
    member.node.did,
    "--space",
    space,
  ], { env: { ...process.env, WEFT_HOME: peer.home } });
  await member.node.libp2p!.dial(multiaddr(peer.address));
  const joined = await member.node.join(invite.trim(), { signal: AbortSignal.timeout(30_000) });
  const maintainer = (await loadCredentials(peer.home)).signer.did;
  await joined.perform(Commands.repoCreate, { repo: "weft", defaultBranch: "main", maintainers: [maintainer] });
  // Proposed once the repository has reached the peer.
  let patch = (await eventually(
    () =>
      api.patchOp<"propose", Patch>(space, "propose", {
        patch: newTaskId(),
        repo: "weft",
        target: "refs/heads/main",
        base: commit(0),
        head: commit(1),
        title: "A long-running patch",
      }).catch(() => undefined),
    30_000,
    "the repository on the peer",
  ))!;
  await member.node.stop();
  for (let r = 2; r <= REVISIONS; r++) {
    patch = await api.patchOp<"revise", Patch>(space, "revise", { patch: patch.id, head: commit(r) });
  }
  const task = await api.op<"create", TaskView>(space, "create", { task: newTaskId(), title: "A long discussion" });
  for (let i = 0; i < COMMENTS; i++) {
    const revision = patch.revisions[i % REVISIONS].id;
    await api.patchOp(space, "review", {
      patch: patch.id,
      revision,
      verdict: "comment",
      comments: [{ path: `src/file${i % 17}.ts`, line: 1 + i, body: text(i) }],
    });
    await api.op(space, "comment", { task: task.id, body: `src/file${i % 17}.ts:${1 + i}: ${text(i)}` });
  }
  const env = { WEFT_HOME: peer.home };
  const runs: Record<string, string[]> = {
    "patch show": [CLI, "patch", "show", patch.id, "--space", space],
    "task show": [CLI, "task", "show", task.id, "--space", space],
  };
  const samples: Record<string, number[]> = { "patch show": [], "task show": [] };
  const printed: Record<string, number> = {};
  for (const [name, args] of Object.entries(runs)) printed[name] = (await timed(args, env)).bytes; // warm caches
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, args] of Object.entries(runs)) samples[name].push((await timed(args, env)).ms);
  }
  const median = (k: string) => percentile(samples[k].sort((a, b) => a - b), 50);
  report({
    bench: BENCH,
    metric: `weft patch show ms (${REVISIONS} revisions, ${COMMENTS} comments)`,
    value: median("patch show"),
    unit: "ms",
    baseline: median("task show"),
    note: `baseline: weft task show of a task with the same ${COMMENTS} comments; printed ${printed["patch show"]} ` +
      `vs ${printed["task show"]} bytes`,
  });

  // The dashboard: a browser joined with a link invite, the patch and task synced to it, then each page opened.
  ensurePwaBuilt();
  const url = /dashboard\s+(\S+)/.exec(peer.out)![1];
  const { stdout: link } = await promisify(execFile)(process.execPath, [CLI, "space", "invite", "--space", space], {
    env: { ...process.env, WEFT_HOME: peer.home },
  });
  const profile = await openProfile();
  try {
    const page = profile.page;
    await page.goto(url);
    await appReady(page);
    await page.fill("#invite-text", link.trim());
    await page.click("form[aria-labelledby=join-title] button[type=submit]");
    await page.waitForSelector("#tasks-title", { timeout: 120_000 });
    const base = `#/s/${encodeURIComponent(space)}`;
    const pages = {
      patch: { hash: `${base}/patch/${patch.id}`, items: ".reviews > li", count: COMMENTS },
      task: { hash: `${base}/task/${task.id}`, items: "ol.comments > li", count: COMMENTS },
    };
    /** ms from navigating to `hash` until `count` items match `items`; resolves to NaN if they never do. */
    const open = (p: { hash: string; items: string; count: number }) =>
      page.evaluate(async ({ hash, items, count }) => {
        location.hash = "#/spaces";
        await new Promise((r) => setTimeout(r, 200));
        const start = performance.now();
        location.hash = hash;
        for (;;) {
          if (document.querySelectorAll(items).length >= count) return performance.now() - start;
          if (performance.now() - start > 60_000) return NaN;
          await new Promise((r) => requestAnimationFrame(r));
        }
      }, p);
    // Synced when both pages render every comment.
    await eventually(async () => !Number.isNaN(await open(pages.patch)) || undefined, 120_000, "the patch synced");
    await eventually(async () => !Number.isNaN(await open(pages.task)) || undefined, 120_000, "the task synced");
    const pwa: Record<string, number[]> = { patch: [], task: [] };
    for (let r = 0; r < PWA_ROUNDS; r++) {
      pwa.patch.push(await open(pages.patch));
      pwa.task.push(await open(pages.task));
    }
    const med = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50);
    report({
      bench: BENCH,
      metric: `PWA patch page open-to-rendered ms (${REVISIONS} revisions, ${COMMENTS} comments)`,
      value: med(pwa.patch),
      unit: "ms",
      baseline: med(pwa.task),
      note: `baseline: the PWA's task page with the same ${COMMENTS} comments, same tab; ` +
        `weft patch show of the same patch: ${median("patch show").toFixed(0)} ms`,
    });
  } finally {
    await profile.close();
  }
} finally {
  await stopPeer(peer);
}
