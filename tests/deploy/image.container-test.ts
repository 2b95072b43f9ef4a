/**
 * deploy/Dockerfile built and run for real, offline: podman builds it with
 * DEPS=prebuilt from a context deploy/prebuilt-context.ts lays out (this
 * checkout's production dependencies and built dashboard), on a node base
 * made from .ci/setup's Debian minbase image and the npm `node` package's
 * binary (node-base.Containerfile) in place of the official node image no
 * registry can give here. The container then serves /healthz and the
 * dashboard, and runs a WASM job submitted with the image's own CLI.
 * Podman's storage (overlay: layers are shared, not copied as with vfs)
 * lives under the containers cache, and the image is tagged with a key of
 * its whole build context: a run whose context did not change reuses it.
 * (Podman's own layer cache missed the 1.3 GB dependency layer between
 * runs here, each build copying it again for ~10 minutes.)
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { lstatSync, readdirSync, readlinkSync } from "node:fs";
import { chmod, copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { BASE_RUN, podmanEnv } from "../../bridges/containers/podman-backend.ts";
import { runTool } from "../../bridges/containers/tool.ts";
import { writePrebuiltContext } from "../../deploy/prebuilt-context.ts";
import { buildSamples } from "../../wasm-runners/samples/build.ts";
import { BASE_IMAGE_PATH, CONTAINERS_CACHE } from "../containers/base-image.ts";
import { freePort } from "../helpers/kube-control-plane.ts";
import { eventually } from "../helpers/nodes.ts";

const NODE_BASE = `localhost/weft-test/node:${process.versions.node}`;
const IMAGE = "localhost/weft-test/peer";
/** Safety nets, not deadlines: a first build copies ~1.3 GB of dependencies into a layer. */
const BUILD_MS = 40 * 60_000;

let env: NodeJS.ProcessEnv;

/** A key for a build context: every entry's path and mode, each file's size and modification time, each link's target. */
function contextKey(dir: string): string {
  const hash = createHash("sha256");
  const walk = (rel: string) => {
    const st = lstatSync(join(dir, rel));
    // A folder's own time says only that the context was made again; its entries say what changed.
    hash.update(`${rel}\0${st.mode}\0${st.isDirectory() ? 0 : st.size}\0${st.isDirectory() ? 0 : st.mtimeMs}\0`);
    if (st.isSymbolicLink()) hash.update(readlinkSync(join(dir, rel)));
    else if (st.isDirectory()) { for (const name of readdirSync(join(dir, rel)).sort()) walk(join(rel, name)); }
  };
  walk(".");
  return hash.digest("hex").slice(0, 24);
}

async function podman(args: string[], timeoutMs = 120_000): Promise<string> {
  const r = await runTool("podman", args, { env, timeoutMs });
  if (r.code !== 0) throw new Error(`podman ${args[0]} failed (${r.code}): ${r.stderr.trim().slice(-2000)}`);
  return r.stdout.trim();
}

const exists = async (image: string) => (await runTool("podman", ["image", "exists", image], { env })).code === 0;

/** The node base: .ci/setup's minbase image, this Node binary and a `node` user; built once per Node version. */
async function nodeBase(scratch: string): Promise<void> {
  if (await exists(NODE_BASE)) return;
  const loaded = await podman(["load", "-q", "-i", BASE_IMAGE_PATH], 300_000).catch((e) => {
    throw new Error(`${e.message}\n(the base image comes from .ci/setup: ${BASE_IMAGE_PATH})`);
  });
  const base = /Loaded image\(?s?\)?:\s*(\S+)/.exec(loaded)?.[1];
  assert.ok(base, `podman load said: ${loaded}`);
  const context = join(scratch, "node-base");
  await mkdir(context);
  await copyFile(process.execPath, join(context, "node"));
  await copyFile(new URL("./node-base.Containerfile", import.meta.url), join(context, "Containerfile"));
  await podman(["build", ...BASE_RUN, "--build-arg", `BASE=${base}`, "-t", NODE_BASE, context], BUILD_MS);
}

/** Build deploy/Dockerfile from `context` as `tag`, then drop the image it replaced and layers no one else uses. */
async function buildImage(context: string, tag: string): Promise<void> {
  await podman([
    "build",
    ...BASE_RUN,
    "--build-arg",
    `NODE_IMAGE=${NODE_BASE}`,
    "--build-arg",
    "DEPS=prebuilt",
    "-f",
    join(context, "deploy/Dockerfile"),
    "-t",
    tag,
    context,
  ], BUILD_MS);
  // The images this build replaced, and layers no other image shares, would otherwise pile up in the cache.
  const tags = (await podman(["images", "--format", "{{.Repository}}:{{.Tag}}", IMAGE])).split("\n");
  const stale = tags.filter((t) => t.startsWith(`${IMAGE}:ctx-`) && t !== tag);
  if (stale.length) await podman(["rmi", ...stale], 300_000);
  await podman(["image", "prune", "-f"], 300_000);
}

describe("the peer image, built offline and run", { timeout: 2 * BUILD_MS }, () => {
  let scratch: string;
  let container: string | undefined;
  let port: number;
  let image: string;

  before(async () => {
    env = await podmanEnv(join(CONTAINERS_CACHE, "deploy-podman"), "overlay");
    scratch = await mkdtemp(join(tmpdir(), "weft-image-"));
    await nodeBase(scratch);
    const context = join(scratch, "context");
    writePrebuiltContext(context);
    image = `${IMAGE}:ctx-${contextKey(context)}`;
    if (!(await exists(image))) await buildImage(context, image);
    // The job's files, readable by the image's `node` user.
    const job = join(scratch, "job");
    await mkdir(job);
    await writeFile(join(job, "hasher.wasm"), (await buildSamples()).hasher.component);
    await writeFile(join(job, "input.txt"), "in a container\n");
    for (const p of [scratch, job]) await chmod(p, 0o755);
    // No port forwarding here (no CNI network runs): the host's network, with the ports this run picked.
    port = await freePort();
    container = await podman([
      "run",
      "-d",
      ...BASE_RUN,
      "--network",
      "host",
      "-e",
      `WEFT_HTTP_PORT=${port}`,
      "-e",
      "WEFT_HTTP_HOST=127.0.0.1",
      "-e",
      "WEFT_P2P_LISTEN=/ip4/127.0.0.1/tcp/0",
      "-v",
      `${job}:/job:ro`,
      image,
    ]);
  });

  after(async () => {
    if (container) await runTool("podman", ["rm", "-f", "-t", "5", container], { env, timeoutMs: 120_000 });
    await rm(scratch, { recursive: true, force: true });
  });

  it("answers /healthz", async () => {
    const health = await eventually(
      async () => {
        const r = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
        return r?.ok ? await r.json() : undefined;
      },
      180_000,
      "the container's /healthz",
    ).catch(async (e) => {
      throw new Error(`${e.message}; its logs: ${await podman(["logs", container!]).catch(() => "")}`);
    });
    assert.equal(health.ok, true);
  });

  it("serves the dashboard it carries", async () => {
    const r = await fetch(`http://127.0.0.1:${port}/`);
    assert.equal(r.status, 200);
    const html = await r.text();
    assert.match(html, /<title>Weft<\/title>/);
    const script = /src="\.?(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    assert.ok(script, "the page loads the built app");
    assert.equal((await fetch(`http://127.0.0.1:${port}${script}`)).status, 200);
  });

  it("runs a WASM job submitted with the image's CLI", async () => {
    const pod = JSON.parse(
      await podman([
        "exec",
        container!,
        "node",
        "peer/cli/weft.js",
        "run",
        "/job/hasher.wasm",
        "input.txt",
        "--input",
        "input.txt=/job/input.txt",
        "--wait",
        "--json",
      ], 300_000),
    );
    assert.equal(pod.state, "succeeded", pod.summary);
  });
});
