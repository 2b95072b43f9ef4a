/**
 * What the agent loop's test and bench share: a peer whose weft.toml routes
 * models to one OpenAI-compatible endpoint (priced, so spend shows), plain
 * git through git-remote-weft against a peer, and a repository `demo` with
 * a shell function that subtracts where it should add, its tests, and the
 * `.weft/tests.json` naming the test base image (`.ci/setup` builds it);
 * and the two peers and gated agent the approval tests share.
 */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { promisify } from "node:util";
import {
  joinPeer,
  OUTPUT_TAIL,
  type PeerProcess,
  printOutputIfFailed,
  startPeer,
  stopPeer,
  weft,
} from "./peer-process.ts";
import { startRecordedModel } from "./recorded-model-server.ts";
import { BASE_IMAGE_PATH } from "../containers/base-image.ts";

const run = promisify(execFile);
const HELPER = new URL("../../peer/cli/git-remote-weft.js", import.meta.url).pathname;
export const LOOP_FIXTURES = new URL("../fixtures/agent-loop/", import.meta.url).pathname;

/** weft.toml with one OpenAI-compatible provider `m` at `url` serving `model`, priced so spend is visible. */
export const llmToml = (url: string, model: string) => `
[llm]
[llm.providers.m]
api = "openai"
url = "${url}"
[llm.routes]
default = ["m/${model}"]
[llm.prices."m/${model}"]
input = 1
output = 2
`;

export async function peerWith(toml: string): Promise<PeerProcess> {
  const home = await mkdtemp(join(tmpdir(), "weft-loop-"));
  await writeFile(join(home, "weft.toml"), toml);
  return await startPeer({}, home);
}

/** The CLI's --json output. */
export async function weftJson<T>(p: PeerProcess, ...args: string[]): Promise<T> {
  return JSON.parse(await weft(p, ...args, "--json")) as T;
}

/** git as a user runs it in `cwd`, with git-remote-weft (linked under `work`/bin) against peer `p`. */
export async function userGit(work: string, p: PeerProcess, cwd: string, ...args: string[]): Promise<string> {
  await mkdir(join(work, "bin"), { recursive: true });
  await symlink(HELPER, join(work, "bin", "git-remote-weft")).catch(() => {});
  return (await run("git", args, {
    cwd,
    env: {
      ...process.env,
      PATH: `${join(work, "bin")}:${process.env.PATH}`,
      WEFT_HOME: p.home,
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_CONFIG_GLOBAL: "/dev/null",
      GIT_AUTHOR_NAME: "Ada",
      GIT_AUTHOR_EMAIL: "ada@weft.invalid",
      GIT_COMMITTER_NAME: "Ada",
      GIT_COMMITTER_EMAIL: "ada@weft.invalid",
    },
  })).stdout.trim();
}

/** Import the base image on each of `runners`, create `demo` on `p` and push its buggy first commit; the image digest. */
export async function seedDemoRepo(
  work: string,
  p: PeerProcess,
  space: string,
  runners: PeerProcess[] = [p],
  /** More of .weft/tests.json, e.g. `{ network: true }`. */
  tests: Record<string, unknown> = {},
): Promise<string> {
  let image = "";
  for (const r of runners) {
    image = (await weftJson<{ digest: string }>(r, "image", "import", BASE_IMAGE_PATH, "--space", space)).digest;
  }
  await weft(p, "repo", "create", "demo", "--space", space);
  const clone = join(work, "demo");
  await userGit(work, p, work, "clone", "-q", `weft::${space}/demo`, clone);
  await mkdir(join(clone, "src"));
  await mkdir(join(clone, ".weft"));
  await writeFile(join(clone, "src", "add.sh"), "add() { echo $(($1 - $2)); }\n");
  await writeFile(
    join(clone, "test.sh"),
    '. ./src/add.sh\ngot=$(add 2 3)\n[ "$got" = 5 ] || { echo "add 2 3 gave $got, want 5"; exit 1; }\necho ok\n',
  );
  await writeFile(
    join(clone, ".weft", "tests.json"),
    JSON.stringify({ image, command: ["sh", "test.sh"], timeout: "2m", memory: 128, ...tests }),
  );
  await userGit(work, p, clone, "add", ".");
  await userGit(work, p, clone, "commit", "-q", "-m", "add, with a bug");
  await userGit(work, p, clone, "push", "-q", "origin", "HEAD:refs/heads/main");
  return image;
}

/** Two peers and agent `fixer` on a, as the approval gate tests set them up (`gatedFixer`). */
export interface GatedFixer {
  a: PeerProcess;
  b: PeerProcess;
  space: string;
  /** A scratch directory (the user's clone of `demo` is in it). */
  work: string;
  /** The test base image's digest, imported on both peers. */
  image: string;
  agentDid: string;
  model: Awaited<ReturnType<typeof startRecordedModel>>;
  /** Stop the model and both peers (as `a` and `b` are then: a test that restarts one puts it back), and remove the scratch directory. */
  stop(): Promise<void>;
}

/**
 * After a failed test on a gated rig: both peers' output and the agent's
 * transcript on a (where its loop stood), before the rig is stopped.
 */
export async function printRigIfFailed(
  test: { name: string; passed?: boolean },
  rig: Partial<GatedFixer> | undefined,
): Promise<void> {
  if (test.passed !== false || !rig) return;
  printOutputIfFailed(test, { a: rig.a, b: rig.b });
  if (!rig.a || !rig.space || !rig.agentDid) return;
  const transcript = await weft(rig.a, "agent", "transcript", rig.agentDid, "--space", rig.space)
    .catch((e: Error) => `(no transcript: ${e.message})`);
  // Its first line says where the loop stands; the tail, what it did last.
  const [status, ...rest] = transcript.split("\n");
  console.error(`--- the agent's transcript on a ---\n${status}\n…\n${rest.join("\n").slice(-OUTPUT_TAIL)}`);
}

/**
 * Peer a routing models to the recorded model fix-add.json (a recording,
 * not a live model) with a 120 s agent lease, peer b joined to a's space,
 * `demo` seeded with `tests` (the base image on both), the space's gates set
 * with `gates` (`weft agent gates …`), and agent `fixer` on a (labels bug,
 * 1usd, container runs), run by a's daemon. What was started is stopped
 * again if a step fails.
 */
export async function gatedFixer(gates: string[], tests: Record<string, unknown> = {}): Promise<GatedFixer> {
  const rig = {} as Partial<GatedFixer> & Pick<GatedFixer, "stop">;
  rig.stop = async () => {
    rig.model?.stop();
    await Promise.all([rig.a, rig.b].map((p) => p && stopPeer(p)));
    if (rig.work) await rm(rig.work, { recursive: true, force: true });
  };
  try {
    rig.work = await mkdtemp(join(tmpdir(), "weft-gated-"));
    rig.model = await startRecordedModel(join(LOOP_FIXTURES, "fix-add.json"));
    rig.a = await peerWith(llmToml(rig.model.url, "recorded-fix") + "\n[agents]\nlease_seconds = 120\n");
    rig.b = await startPeer();
    rig.space = JSON.parse(await weft(rig.a, "space", "list", "--json")).spaces[0].id as string;
    await joinPeer(rig.a, rig.b, rig.space);
    rig.image = await seedDemoRepo(rig.work, rig.a, rig.space, [rig.a, rig.b], tests);
    await weft(rig.a, "agent", "gates", ...gates, "--space", rig.space);
    rig.agentDid = (await weftJson<{ did: string }>(
      rig.a,
      ...["agent", "add", "fixer", "--labels", "bug", "--budget", "1usd", "--runners", "container", "--run"],
      ...["--space", rig.space],
    )).did;
  } catch (e) {
    await rig.stop();
    throw e;
  }
  return rig as GatedFixer;
}
