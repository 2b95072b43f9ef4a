/**
 * Old against new in one run, for the git-clone row: each variant is a pair
 * of peers (git-clone-ab-peer.ts) running one checkout's code with its own
 * node flags; the variants' clones of the same repository alternate (the
 * order turning each round), so a load that comes and goes on a shared
 * machine hits them alike. Per clone it reads, from /proc, the CPU of each
 * peer (its main thread, its other threads — V8's concurrent GC, libuv's
 * pool — and the git processes it reaped), and from each peer its main
 * thread's GC pauses. Prints one JSON line per variant and figure, with the
 * first variant as baseline (medians). Not a `*.bench.ts`: run it by hand.
 *
 *   VARIANTS='[{"name":"old","root":"/tmp/old"},{"name":"new","flags":["--max-semi-space-size=2"]}]' \
 *     COMMITS=5000 ROUNDS=4 PER_TURN=2 node tests/bench/git-clone-ab.ts
 *
 * `root` defaults to this checkout; `flags` are node's, for both peers; `setFlags` V8's, set by the
 * peers on themselves after their checkout's own (peer/daemon/heap-flags.ts); `liveMiB` a live heap
 * each peer holds besides its node, as a daemon with more documents does.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { addCommits, git, initBare } from "../helpers/git-repos.ts";
import { percentile, report } from "./report.ts";

interface Variant {
  name: string;
  root?: string;
  flags?: string[];
  /** V8 flags the peers set on themselves at start (v8.setFlagsFromString), after the checkout's own. */
  setFlags?: string;
  /** MiB of live objects each peer holds, as a daemon with more documents does. */
  liveMiB?: number;
}
const HERE = fileURLToPath(new URL(".", import.meta.url));
const ROOT = join(HERE, "../..");
const VARIANTS: Variant[] = JSON.parse(process.env.VARIANTS ?? '[{"name":"this"}]');
const COMMITS = Number(process.env.COMMITS ?? 5000);
const ROUNDS = Number(process.env.ROUNDS ?? 4);
const PER_TURN = Number(process.env.PER_TURN ?? 2);

/** A child peer and a way to ask it one line and read its one-line JSON answer. */
class Peer {
  readonly child: ChildProcess;
  /** The pid of its process spawner's helper, once its first line said it (if it has one). */
  spawner: number | undefined;
  readonly #lines: AsyncIterator<string>;
  constructor(variant: Variant, args: string[]) {
    this.child = spawn(
      process.execPath,
      [...(variant.flags ?? []), join(HERE, "git-clone-ab-peer.ts"), args[0], variant.root ?? ROOT, ...args.slice(1)],
      {
        stdio: ["pipe", "pipe", "inherit"],
        env: { ...process.env, AB_SET_FLAGS: variant.setFlags ?? "", AB_LIVE_MIB: String(variant.liveMiB ?? 0) },
      },
    );
    this.#lines = createInterface({ input: this.child.stdout! })[Symbol.asyncIterator]();
  }
  async read(): Promise<Record<string, unknown>> {
    for (;;) {
      const { value, done } = await this.#lines.next();
      if (done) throw new Error("a peer ended");
      if (value.startsWith("{")) return JSON.parse(value);
    }
  }
  ask(line: string): Promise<Record<string, unknown>> {
    this.child.stdin!.write(`${line}\n`);
    return this.read();
  }
}

/**
 * CPU seconds of a peer so far: main thread, other threads (and its spawner's helper process, if it has one),
 * reaped children (git, started directly or through the helper).
 */
function cpuOf(peer: Peer): { main: number; helpers: number; children: number } {
  const pid = peer.child.pid!;
  const stat = (path: string) => readFileSync(path, "utf8").split(") ")[1].split(" ").map(Number);
  const f = stat(`/proc/${pid}/stat`);
  const h = peer.spawner === undefined ? [] : stat(`/proc/${peer.spawner}/stat`);
  let main = 0, helpers = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      const t = stat(`/proc/${pid}/task/${task}/stat`);
      if (task === String(pid)) main += (t[11] + t[12]) / 100;
      else helpers += (t[11] + t[12]) / 100;
    } catch {
      // a thread that ended between the listing and the read
    }
  }
  if (h.length > 0) helpers += (h[11] + h[12]) / 100;
  return { main, helpers, children: (f[13] + f[14] + (h.length > 0 ? h[13] + h[14] : 0)) / 100 };
}

const dir = await mkdtemp(join(tmpdir(), "weft-bench-git-ab-"));
const source = initBare(join(dir, "repo.git"));
const head = await addCommits(source, COMMITS, 10 * 1024);
git(source, "repack", "-a", "-d", "--quiet");
const packMiB = Number(/size-pack: (\d+)/.exec(git(source, "count-objects", "-v"))![1]) / 1024;

const FIGURES = [
  "seconds",
  "cpu-all",
  "cpu-asking-peer",
  "cpu-serving-peer",
  "cpu-peers-main-threads",
  "cpu-peers-helper-threads",
  "gc-pause-asking-peer",
  "gc-pause-serving-peer",
  "gc-pauses-asking-peer",
  "gc-pauses-serving-peer",
  "gc-major-asking-peer",
  "gc-major-serving-peer",
  "cpu-asking-git",
  "cpu-serving-git",
  "rss-peak-asking-peer",
  "rss-peak-serving-peer",
] as const;
type Figure = typeof FIGURES[number];
const pairs: { variant: Variant; ask: Peer; serve: Peer; figures: Record<Figure, number[]> }[] = [];
try {
  for (const variant of VARIANTS) {
    const ask = new Peer(variant, ["ask"]);
    const { did, spawner } = await ask.read();
    ask.spawner = spawner as number | undefined;
    const serve = new Peer(variant, ["serve", source, did as string]);
    const opening = await serve.read();
    serve.spawner = opening.spawner as number | undefined;
    await ask.ask(JSON.stringify(opening));
    pairs.push({
      variant,
      ask,
      serve,
      figures: Object.fromEntries(FIGURES.map((f) => [f, []])) as unknown as Record<Figure, number[]>,
    });
  }
  let n = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const order = pairs.map((_, i) => pairs[(i + r) % pairs.length]);
    for (const pair of order) {
      for (let k = 0; k < PER_TURN; k++) {
        const into = join(dir, `clone-${n++}.git`);
        const a0 = cpuOf(pair.ask), s0 = cpuOf(pair.serve);
        const sg0 = await pair.serve.ask("stats"), ag0 = await pair.ask.ask("stats");
        const answer = await pair.ask.ask(`${head} ${into}`);
        const a1 = cpuOf(pair.ask), s1 = cpuOf(pair.serve);
        const sg1 = await pair.serve.ask("stats"), ag1 = await pair.ask.ask("stats");
        if (git(into, "rev-list", "--count", head) !== String(COMMITS)) throw new Error("incomplete clone");
        await rm(into, { recursive: true, force: true });
        const d = (a: number, b: number) => b - a;
        const f = pair.figures;
        f.seconds.push((answer.ms as number) / 1000);
        f["cpu-asking-peer"].push(d(a0.main + a0.helpers, a1.main + a1.helpers));
        f["cpu-serving-peer"].push(d(s0.main + s0.helpers, s1.main + s1.helpers));
        f["cpu-peers-main-threads"].push(d(a0.main + s0.main, a1.main + s1.main));
        f["cpu-peers-helper-threads"].push(d(a0.helpers + s0.helpers, a1.helpers + s1.helpers));
        f["cpu-asking-git"].push(d(a0.children, a1.children));
        f["cpu-serving-git"].push(d(s0.children, s1.children));
        f["cpu-all"].push(
          d(
            a0.main + a0.helpers + a0.children + s0.main + s0.helpers + s0.children,
            a1.main + a1.helpers + a1.children + s1.main + s1.helpers + s1.children,
          ),
        );
        f["gc-pause-asking-peer"].push(((ag1.gcMs as number) - (ag0.gcMs as number)) / 1000);
        f["gc-pauses-asking-peer"].push((ag1.gcCount as number) - (ag0.gcCount as number));
        f["gc-pause-serving-peer"].push(((sg1.gcMs as number) - (sg0.gcMs as number)) / 1000);
        f["gc-pauses-serving-peer"].push((sg1.gcCount as number) - (sg0.gcCount as number));
        f["gc-major-asking-peer"].push((ag1.gcMajor as number) - (ag0.gcMajor as number));
        f["gc-major-serving-peer"].push((sg1.gcMajor as number) - (sg0.gcMajor as number));
      }
    }
  }
  /** Peak resident memory of a process since it started, MiB. */
  const peakRss = (pid: number) =>
    Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024;
  for (const pair of pairs) {
    pair.figures["rss-peak-asking-peer"].push(peakRss(pair.ask.child.pid!));
    pair.figures["rss-peak-serving-peer"].push(peakRss(pair.serve.child.pid!));
  }
  const median = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50);
  const load = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  report({ bench: "git-clone-ab", metric: "repository-pack", value: packMiB, unit: "MiB", note: `load ${load}` });
  const base = pairs[0].figures;
  for (const pair of pairs) {
    for (const figure of FIGURES) {
      report({
        bench: "git-clone-ab",
        metric: `${pair.variant.name}:${figure}`,
        value: median(pair.figures[figure]),
        unit: /^gc-(pauses|major)/.test(figure) ? "count" : figure.startsWith("rss") ? "MiB" : "s",
        baseline: median(base[figure]),
        note: `median of [${pair.figures[figure].join(", ")}]; baseline ${pairs[0].variant.name}`,
      });
    }
  }
} finally {
  for (const pair of pairs) {
    pair.ask.child.stdin!.end();
    pair.serve.child.stdin!.end();
  }
  await rm(dir, { recursive: true, force: true });
}
