/**
 * Peers as real processes (`npm start`'s entry point) with temp homes and
 * OS-picked ports, and the `weft` CLI run against them: for tests where a
 * peer must die for real (SIGKILL) or stop the way a user stops it.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import process from "node:process";
import { ApiClient } from "../../peer/api/client.ts";
import { loadCredentials } from "../../peer/api/credentials.ts";
import { eventually } from "./nodes.ts";

const run = promisify(execFile);
const MAIN = new URL("../../peer/main.ts", import.meta.url).pathname;
const CLI = new URL("../../peer/cli/weft.js", import.meta.url).pathname;

export interface PeerProcess {
  child: ChildProcess;
  home: string;
  /** Everything it printed so far (stdout and stderr). */
  out: string;
  /** Its first libp2p address, as printed at start. */
  address: string;
  api(): Promise<ApiClient>;
}

/** Start a peer process; `env` adds WEFT_* settings (capacity, tags, lease…). */
export async function startPeer(env: Record<string, string> = {}, home?: string): Promise<PeerProcess> {
  home ??= await mkdtemp(join(tmpdir(), "weft-proc-"));
  const child = spawn(process.execPath, [MAIN], {
    env: {
      ...process.env,
      WEFT_HOME: home,
      WEFT_HTTP_PORT: "0",
      WEFT_P2P_LISTEN: "/ip4/127.0.0.1/tcp/0",
      WEFT_LOG_LEVEL: "warn",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const p: PeerProcess = {
    child,
    home,
    out: "",
    address: "",
    api: async () => new ApiClient(await loadCredentials(home)),
  };
  child.stdout!.on("data", (d) => (p.out += d));
  child.stderr!.on("data", (d) => (p.out += d));
  // A safety net, not a deadline: a peer starting on a busy 2-core machine can take tens of seconds.
  await eventually(() => p.out.includes("  p2p "), 120_000, "peer started");
  p.address = /p2p\s+(\S+)/.exec(p.out)![1];
  return p;
}

/** Run the CLI against the peer; resolves with its trimmed stdout, rejects on a non-zero exit. */
export async function weft(p: PeerProcess, ...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [CLI, ...args], {
    env: { ...process.env, WEFT_HOME: p.home },
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout.trim();
}

function exited(p: PeerProcess): Promise<number | null> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return Promise.resolve(p.child.exitCode);
  return new Promise((r) => p.child.once("exit", (c) => r(c)));
}

/** How much of each peer's output a failed test prints. */
export const OUTPUT_TAIL = 8_000;

/**
 * After a failed test, print the end of each peer's output: a test that
 * hangs in CI leaves nothing else to read once its peers are stopped and
 * their homes removed. For `afterEach`, which is given the test's context.
 */
export function printOutputIfFailed(
  test: { name: string; passed?: boolean },
  peers: Record<string, PeerProcess | undefined>,
): void {
  if (test.passed !== false) return;
  for (const [name, p] of Object.entries(peers)) {
    if (!p) continue;
    console.error(`--- peer ${name}, the last ${OUTPUT_TAIL} characters it printed before "${test.name}" failed ---`);
    console.error(p.out.slice(-OUTPUT_TAIL));
  }
}

/** Stop it as a user does (SIGTERM), remove its home; resolves with the exit code. */
export async function stopPeer(p: PeerProcess): Promise<number | null> {
  p.child.kill("SIGTERM");
  const code = await exited(p);
  await rm(p.home, { recursive: true, force: true });
  return code;
}

/** Kill it outright (as a crash or a power cut would); its home stays. */
export async function killPeer(p: PeerProcess): Promise<void> {
  p.child.kill("SIGKILL");
  await exited(p);
}

/** Invite `joiner` into `host`'s space (personal, unless named) and join it through the CLI; resolves with the space id. */
export async function joinPeer(host: PeerProcess, joiner: PeerProcess, space?: string): Promise<string> {
  const did = await weft(joiner, "id");
  const invite = await weft(host, "space", "invite", "--to", did, ...(space ? ["--space", space] : []));
  const joined = JSON.parse(await weft(joiner, "join", host.address, "--invite", invite, "--json"));
  return joined.id;
}
