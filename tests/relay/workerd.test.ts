/**
 * The relay on a Workers runtime, for real: peer/relay/worker.ts bundled
 * with esbuild as wrangler would (ES modules, the browser/worker builds of
 * dependencies, Node built-ins left to nodejs_compat, the Automerge
 * WebAssembly as its own module), run on workerd (the open-source Workers
 * runtime, from npm) with the entry point, compatibility date and flags,
 * Durable Object binding and class that deploy/relay/wrangler.toml names,
 * its storage on local disk. Two members who never meet sync a space
 * through it; a stranger connected to it gets nothing.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { parse } from "smol-toml";
import { nativeSigner } from "../../peer/crypto/native-signer.ts";
import { nativeVerifier } from "../../peer/crypto/native-verifier.ts";
import { toBase64Url } from "../../protocol/bytes.ts";
import { generateSeed } from "../../protocol/identity/ed25519.ts";
import { createNode, type WeftNode } from "../../protocol/node/node.ts";
import { WebSocketNetworkAdapter } from "../../protocol/sync/websocket-adapter.ts";
import { freePort } from "../helpers/kube-control-plane.ts";
import { eventually, memoryKeystore } from "../helpers/nodes.ts";

const root = new URL("../../", import.meta.url).pathname;
const WRANGLER = join(root, "deploy/relay/wrangler.toml");
const NODE_BUILTINS = ["crypto", "dns/promises", "module", "fs", "path", "url", "child_process", "os", "net", "buffer"];

interface Wrangler {
  main: string;
  compatibility_date: string;
  compatibility_flags: string[];
  durable_objects: { bindings: { name: string; class_name: string }[] };
  migrations: { new_sqlite_classes?: string[] }[];
}

/** Bundle the worker into `dir`; returns its modules (the entry first) as workerd's config lists them. */
async function bundle(entry: string, dir: string): Promise<string[]> {
  await build({
    entryPoints: [entry],
    bundle: true,
    format: "esm",
    platform: "browser",
    conditions: ["workerd", "worker", "browser"],
    loader: { ".wasm": "copy" },
    entryNames: "worker",
    outdir: dir,
    external: ["node:*", ...NODE_BUILTINS],
    logLevel: "error",
  });
  const files = await readdir(dir);
  return ["worker.js", ...files.filter((f) => f.endsWith(".wasm"))];
}

/** workerd's config for the worker as wrangler.toml describes it, listening on `port`. */
function config(w: Wrangler, modules: string[], port: number, key: string, storage: string): string {
  const [binding] = w.durable_objects.bindings;
  const sqlite = w.migrations.some((m) => m.new_sqlite_classes?.includes(binding.class_name));
  const mod = (m: string) =>
    m.endsWith(".wasm") ? `(name = "${m}", wasm = embed "${m}")` : `(name = "${m}", esModule = embed "${m}")`;
  return `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "relay", worker = .relay), (name = "storage", disk = (path = "${storage}", writable = true)) ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "relay") ],
);
const relay :Workerd.Worker = (
  modules = [ ${modules.map(mod).join(", ")} ],
  compatibilityDate = "${w.compatibility_date}",
  compatibilityFlags = [ ${w.compatibility_flags.map((f) => `"${f}"`).join(", ")} ],
  bindings = [
    (name = "WEFT_RELAY_KEY", text = "${key}"),
    (name = "${binding.name}", durableObjectNamespace = "${binding.class_name}"),
  ],
  durableObjectNamespaces = [ (className = "${binding.class_name}", uniqueKey = "weft-relay", enableSql = ${sqlite}) ],
  durableObjectStorage = (localDisk = "storage"),
);
`;
}

async function member(url: string): Promise<WeftNode> {
  const node = await createNode({
    signer: nativeSigner(generateSeed()),
    verifier: nativeVerifier(),
    keystore: memoryKeystore(),
  });
  node.addNetwork((o) => new WebSocketNetworkAdapter({ ...o, maxBackoffMs: 500 })).connectTo(url, { carrier: true });
  return node;
}

describe("the relay on workerd, as wrangler.toml describes it", { timeout: 300_000 }, () => {
  let dir: string;
  let workerd: ChildProcess;
  let out = "";
  let http: string;
  const nodes: WeftNode[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "weft-workerd-"));
    const w = parse(await readFile(WRANGLER, "utf8")) as unknown as Wrangler;
    const modules = await bundle(join(root, "deploy/relay", w.main), dir);
    await mkdir(join(dir, "storage"));
    const port = await freePort();
    await writeFile(
      join(dir, "config.capnp"),
      config(w, modules, port, toBase64Url(generateSeed()), join(dir, "storage")),
    );
    workerd = spawn(join(root, "node_modules/.bin/workerd"), ["serve", join(dir, "config.capnp")], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    workerd.stdout!.on("data", (d) => (out += d));
    workerd.stderr!.on("data", (d) => (out += d));
    http = `http://127.0.0.1:${port}`;
    await eventually(
      async () => (await fetch(`${http}/healthz`).catch(() => undefined))?.ok,
      60_000,
      "workerd serves the relay",
    ).catch((e) => {
      throw new Error(`${e.message}; workerd said: ${out}`);
    });
  });

  after(async () => {
    for (const n of nodes) await n.stop();
    workerd.kill("SIGTERM");
    await rm(dir, { recursive: true, force: true });
  });

  it("is the relay: its own identity, carrying nothing yet", async () => {
    const info = await (await fetch(`${http}/v1/node`)).json() as { did: string; relay: boolean; spaces: string[] };
    assert.equal(info.relay, true);
    assert.match(info.did, /^did:key:z6Mk/);
    assert.deepEqual(info.spaces, []);
  });

  it("members who never meet sync a space through it; a stranger gets nothing", async () => {
    const url = http.replace(/^http/, "ws") + "/v1/sync";
    const [a, b, stranger] = await Promise.all([member(url), member(url), member(url)]);
    nodes.push(a, b, stranger);
    const space = await a.createSpace("on workerd");
    await eventually(
      async () => ((await (await fetch(`${http}/v1/node`)).json()) as { spaces: string[] }).spaces.includes(space.id),
      30_000,
      "the relay carries the space a member proved",
    );
    const joined = await b.join(await a.invite(space.id, { audience: b.did }), { signal: AbortSignal.timeout(60_000) });
    const task = await space.createTask({ title: "relayed by workerd" });
    await eventually(() => joined.task(task.id), 30_000, "the task reaches the other member through workerd");
    await assert.rejects(stranger.repo.find(space.url, { signal: AbortSignal.timeout(5_000) }));
  });
});
