/**
 * The peer's image, built from deploy/Dockerfile with podman and run: it
 * starts, answers /healthz, serves the dashboard, and runs a WASM job that
 * the CLI inside the container submits. No container registry is reachable
 * here, so NODE_IMAGE is the local Node image and npm installs offline from
 * the cache .ci/setup (setup_image_build) filled. Slow (minutes, on podman's
 * vfs driver): .ci/run runs it as its own step, not in `npm test`.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { promisify } from "node:util";
import { eventually } from "../helpers/nodes.ts";
import { buildSamples } from "../../wasm-runners/samples/build.ts";

const exec = promisify(execFile);
const REPO = new URL("../..", import.meta.url).pathname;
const CACHE = process.env.WEFT_CONTAINERS_CACHE ??
  join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "weft/containers");
const CONF = join(CACHE, "image-podman");
const ENV = {
  ...process.env,
  CONTAINERS_STORAGE_CONF: join(CONF, "storage.conf"),
  CONTAINERS_CONF: join(CONF, "containers.conf"),
};
const LIMITS = ["--runtime", "runc", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1000:1000"];
const TAG = `weft-test/peer:${process.pid}`;

const podman = async (...args: string[]) =>
  (await exec("podman", args, { env: ENV, maxBuffer: 64 * 1024 * 1024 })).stdout.trim();

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

describe("the peer's container image", { timeout: 3_600_000 }, () => {
  let work: string;
  let container: string | undefined;
  let port: number;

  before(async () => {
    const npmVersion = (await exec("npm", ["--version"])).stdout.trim();
    const nodeImage = join(CACHE, `node-image-${process.versions.node}-npm-${npmVersion}.oci.tar`);
    assert.ok(existsSync(nodeImage), `no Node image at ${nodeImage}: run .ci/setup`);
    await podman("load", "-i", nodeImage);
    work = await mkdtemp(join(tmpdir(), "weft-image-"));
    // npm in the build stage reads root's user config: offline, from the filled cache (mounted as an overlay).
    await writeFile(join(work, "npmrc"), "offline=true\ncache=/npm-cache\n");
    await podman(
      "build",
      ...LIMITS,
      "--build-arg",
      "NODE_IMAGE=weft-test/node:latest",
      "-v",
      `${join(CACHE, "image-npm-cache")}:/npm-cache:O`,
      "-v",
      `${join(work, "npmrc")}:/root/.npmrc:ro`,
      "-f",
      join(REPO, "deploy/Dockerfile"),
      "-t",
      TAG,
      REPO,
    );
  });

  after(async () => {
    if (container) await podman("rm", "-f", container).catch(() => {});
    await podman("rmi", "-f", TAG).catch(() => {});
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("starts, answers /healthz and serves the dashboard", async () => {
    port = await freePort();
    container = await podman(
      "run",
      "-d",
      ...LIMITS,
      "--network",
      "host",
      "-e",
      "WEFT_HTTP_HOST=127.0.0.1",
      "-e",
      `WEFT_HTTP_PORT=${port}`,
      "-e",
      "WEFT_P2P_LISTEN=/ip4/127.0.0.1/tcp/0",
      TAG,
    );
    await eventually(
      async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.ok,
      60_000,
      "the container's peer answers /healthz",
    );
    const html = await (await fetch(`http://127.0.0.1:${port}/`)).text();
    assert.match(html, /<script[^>]+type="module"/);
    const logs = await podman("logs", container);
    assert.match(logs, /#\/pair\?code=/, "it printed a pairing link");
  });

  it("runs a WASM job submitted with the CLI inside the container", async () => {
    const hasher = (await buildSamples()).hasher.component;
    await writeFile(join(work, "hasher.wasm"), hasher);
    await writeFile(join(work, "notes.txt"), "hello from the image test\n");
    await podman("cp", join(work, "hasher.wasm"), `${container}:/tmp/hasher.wasm`);
    await podman("cp", join(work, "notes.txt"), `${container}:/tmp/notes.txt`);
    const out = await podman(
      "exec",
      "-w",
      "/tmp",
      container!,
      "node",
      "/app/peer/cli/weft.ts",
      "run",
      "hasher.wasm",
      "notes.txt",
      "--input",
      "notes.txt=./notes.txt",
      "--wait",
      "--json",
    );
    const pod = JSON.parse(out) as { state: string };
    assert.equal(pod.state, "succeeded", out);
  });
});
