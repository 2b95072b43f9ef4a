/**
 * Start and stop a real S3-compatible server process (s3rver) on loopback
 * for tests and benchmarks. It keeps its objects in a temp dir, so it can be
 * killed mid-transfer and restarted on the same port with its data intact.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { createInterface } from "node:readline";
import type { S3Settings } from "../../peer/artifacts/s3-config.ts";

const script = new URL("./s3-server-process.ts", import.meta.url).pathname;

export interface TestS3 {
  endpoint: string;
  port: number;
  dir: string;
  /** Settings for the bucket "weft" with s3rver's default credentials. */
  settings(overrides?: Partial<S3Settings>): S3Settings;
  /** SIGKILL the server (as a crash or a network loss would). */
  kill(): Promise<void>;
  /** Start it again on the same port, with the same data. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

function launch(dir: string, port: number): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [script, dir, String(port)], { stdio: ["pipe", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once("line", (line) => resolve({ child, port: JSON.parse(line).port }));
    child.once("exit", (code) => reject(new Error(`s3rver exited with ${code} before listening`)));
  });
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once("exit", () => resolve()));
}

export async function startS3(): Promise<TestS3> {
  const dir = await mkdtemp(join(tmpdir(), "weft-s3-"));
  let { child, port } = await launch(dir, 0);
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    port,
    dir,
    settings: (overrides = {}) => ({
      endpoint,
      region: "us-east-1",
      bucket: "weft",
      prefix: "test/",
      forcePathStyle: true,
      accessKeyId: "S3RVER",
      secretAccessKey: "S3RVER",
      ...overrides,
    }),
    async kill() {
      child.kill("SIGKILL");
      await exited(child);
    },
    async restart() {
      ({ child } = await launch(dir, port));
    },
    async stop() {
      child.stdin?.end();
      child.kill("SIGTERM");
      await exited(child);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
