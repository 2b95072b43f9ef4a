/**
 * A run's editor, end to end on a real control plane: a peer daemon runs the
 * kubernetes bridge (its own DID, granted by the space) with a code-server
 * image; a run task whose spec asks for an editor becomes a Job and an editor
 * pod, which the real scheduler binds to a Weft virtual node, whose container
 * runner (bubblewrap) runs code-server on the run's working tree with no
 * network. The way in: the peer's API answers the task's creator, or a
 * reviewer (holder of /weft/patch/review), with a URL on the editor's own
 * origin (another port) carrying a single-use ticket, exchanged there for an
 * HttpOnly cookie; they read the tree's files through code-server over the
 * API server's port-forward (HTTP, and its WebSocket). The dashboard's origin
 * serves none of it and the editor's serves nothing else. In real Chromium
 * the dashboard's Editor button opens it in a tab on that origin, whose
 * pages find no key of the dashboard's and cannot script its pages. A member who is neither, a request without the session's
 * cookie, and a reviewer once revoked get 403. When the run ends (the task is
 * cancelled), the pod is gone and the session answers 410.
 */
import { after, before, describe, it } from "node:test";
import { WebSocket } from "ws";
import assert from "node:assert/strict";
import { mkdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { mkdtemp } from "node:fs/promises";
import { ApiClient, type ApiError } from "../../peer/api/client.ts";
import { type Credentials, loadCredentials } from "../../peer/api/credentials.ts";
import type { Signer } from "../../protocol/identity/ed25519.ts";
import { Commands } from "../../protocol/ucan/commands.ts";
import { packSource } from "../../protocol/runner/source.ts";
import { newTaskId } from "../../protocol/space/space.ts";
import type { RunSpec } from "../../protocol/runner/runner.ts";
import { containerPlugin } from "../../bridges/containers/plugin.ts";
import type { ContainerRunner } from "../../bridges/containers/runner.ts";
import { type Cluster, connect } from "../../bridges/kubernetes/cluster.ts";
import { EDITOR_OF_LABEL } from "../../bridges/kubernetes/editor/editor-pod.ts";
import { nodeNameFor } from "../../bridges/kubernetes/virtual-node/node-object.ts";
import { localPods, VirtualNode } from "../../bridges/kubernetes/virtual-node/virtual-node.ts";
import { kubernetesBridge } from "../../bridges/kubernetes/bridge.ts";
import { MemoryContentStore } from "../helpers/content-store.ts";
import { type ControlPlane, startControlPlane } from "../helpers/kube-control-plane.ts";
import { eventually } from "../helpers/nodes.ts";
import { delegationIn, signer } from "../helpers/principals.ts";
import { type TestDaemon, testDaemon } from "../helpers/daemon.ts";
import { baseImage } from "../containers/base-image.ts";
import { EDITOR_RUNNER_STATE, editorImage } from "./editor-image.ts";
import { appReady, join as joinSpace, openProfile } from "../e2e/chromium.ts";
import { ensurePwaBuilt } from "../e2e/pwa-build.ts";

/** Keys in this origin's `weft` database (the dashboard's keystore, pwa/src/node/db.ts); 0 where it has none. */
function keyCount(): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open("weft");
    req.onerror = () => reject(req.error);
    req.onsuccess = () => {
      const db = req.result;
      if (!db.objectStoreNames.contains("keys")) return resolve(0);
      const count = db.transaction("keys").objectStore("keys").count();
      count.onsuccess = () => resolve(count.result);
      count.onerror = () => reject(count.error);
    };
  });
}

const quiet = { debug() {}, info() {}, warn() {} };
const NS = "weft";
const CGROUP_PARENT = `weft-editor-test-${process.pid}`;
const enc = encodeURIComponent;

/** The status and code a call ends with (the status when it succeeds). */
async function statusOf(call: Promise<Response>): Promise<[number, string]> {
  try {
    return [(await call).status, ""];
  } catch (e) {
    return [(e as ApiError).status, (e as ApiError).code];
  }
}

describe("kubernetes: a run's editor, reachable only by the task's holder and reviewers", { timeout: 900_000 }, () => {
  let cp: ControlPlane;
  let cluster: Cluster;
  let state: string;
  let containers: ContainerRunner;
  let vnode: VirtualNode;
  let d: TestDaemon;
  let space: string;
  let creds: Credentials;
  let chains: Record<string, string[]>;
  let agent: Signer;
  let task: string;
  let sourceCid: string;
  const tree = "# the agent's working tree\nhello from the tree\n";

  /** The node's operator delegates `command` in the space to `key`; a client for `key` acting on it. */
  async function grant(key: Signer, command: string): Promise<ApiClient> {
    const r = await d.client.request<{ cid: string; container: string }>(
      "POST",
      `/v1/spaces/${enc(space)}/capabilities`,
      { audience: key.did, command, name: `holds ${command}` },
    );
    const last = await delegationIn(r.container, r.cid);
    const c: Credentials = { url: creds.url, node: creds.node, signer: key, nodeDelegation: last, powerline: last };
    return new ApiClient(c, creds.url, { [space]: chains[space] });
  }

  /**
   * Open the task's editor as `client`: the API answers a URL on the editor's own origin with a ticket (and no
   * cookie of its own); that origin exchanges the ticket, once, for its cookie and sends the browser on without it.
   */
  async function open(client: ApiClient): Promise<{ origin: string; path: string; cookie: string; url: string }> {
    const res = await client.raw("POST", `/v1/spaces/${enc(space)}/tasks/${enc(task)}/editor`);
    assert.equal(res.headers.get("set-cookie"), null);
    const { url } = await res.json() as { url: string };
    const at = new URL(url);
    assert.ok(at.searchParams.get("ticket"));
    const exchanged = await fetch(url, { redirect: "manual" });
    assert.equal(exchanged.status, 303);
    const location = exchanged.headers.get("location") ?? "";
    assert.equal(location, at.pathname);
    const setCookie = exchanged.headers.get("set-cookie") ?? "";
    assert.match(setCookie, /^weft-editor=[A-Za-z0-9_-]{43}; /);
    assert.match(setCookie, /; HttpOnly/);
    assert.match(setCookie, /; SameSite=Strict/);
    assert.ok(setCookie.includes(`; Path=${at.pathname};`), setCookie);
    return { origin: at.origin, path: at.pathname, cookie: setCookie.split(";")[0], url };
  }

  /** Open a WebSocket at `base` + `path`: 101 when it opens, else the status it was refused with. */
  function upgrade(base: string, path: string, cookie?: string): Promise<number> {
    const ws = new WebSocket(`${base.replace(/^http/, "ws")}${path}`, { headers: cookie ? { cookie } : {} });
    return new Promise<number>((resolve, reject) => {
      ws.once("open", () => {
        ws.close();
        resolve(101);
      });
      ws.once("unexpected-response", (_req, res) => {
        resolve(res.statusCode ?? 0);
        ws.terminate();
      });
      ws.once("error", reject);
    });
  }

  const editorPods = async () =>
    (await cluster.core.listNamespacedPod({ namespace: NS, labelSelector: EDITOR_OF_LABEL })).items;

  before(async () => {
    state = await mkdtemp(join(tmpdir(), "weft-editor-test-"));
    const store = new MemoryContentStore();
    const [base, editor] = await Promise.all([baseImage(), editorImage()]);
    await store.put(base.bytes);
    await store.put(editor.bytes);
    const source = packSource([
      { path: "README.md", kind: "file", executable: false, bytes: new TextEncoder().encode(tree) },
    ]);
    sourceCid = await store.put(source);
    // The runner's unpacked images are kept between runs (the editor image is ~1 GB unpacked; .ci/setup unpacks it).
    await mkdir(EDITOR_RUNNER_STATE, { recursive: true });
    const made = await containerPlugin.create(
      containerPlugin.parseConfig({ backend: "bwrap", cgroup_parent: CGROUP_PARENT }),
      { stateDir: EDITOR_RUNNER_STATE, log: quiet },
    );
    if ("unavailable" in made) throw new Error(`containers cannot run here: ${made.unavailable}; run .ci/setup`);
    containers = made as ContainerRunner;
    cp = await startControlPlane();
    const c = connect({ kubeconfig: cp.kubeconfig });
    if ("unavailable" in c) throw new Error(c.unavailable);
    cluster = c;
    await cluster.core.createNamespace({ body: { metadata: { name: NS } } });
    await eventually(
      () => cluster.core.readNamespacedServiceAccount({ name: "default", namespace: NS }).then(() => true),
      60_000,
      "the default service account",
    );
    vnode = new VirtualNode({
      cluster,
      name: nodeNameFor("team"),
      tls: await cp.nodeTls(nodeNameFor("team")),
      pods: localPods(containers, store),
      offer: { cpu: 4, memoryMb: 4096, pods: 8 },
      defaults: { network: false, wallMs: 600_000, memoryMb: 256, outputBytes: 1 << 20 },
      leaseSeconds: 4,
      pollMs: 100,
      log: quiet,
    });
    await vnode.start();

    d = await testDaemon(
      {},
      [
        "[bridges.kubernetes]",
        `kubeconfig = ${JSON.stringify(cp.kubeconfig)}`,
        `namespace = "${NS}"`,
        "tolerate_virtual_nodes = true",
        "refresh_seconds = 1",
        `editor_image = "${editor.digest}"`,
        "",
      ].join("\n"),
    );
    creds = await loadCredentials(d.home);
    const { spaces } = await d.client.get<{ spaces: Array<{ id: string; name: string; chain: string[] }> }>(
      "/v1/spaces",
    );
    chains = Object.fromEntries(spaces.map((s) => [s.id, s.chain]));
    space = spaces.find((s) => s.name === "personal")!.id;
    const bridgeDid = d.daemon.bridges[0].did;
    for (const command of kubernetesBridge.commands) {
      await d.client.request("POST", `/v1/spaces/${enc(space)}/capabilities`, {
        audience: bridgeDid,
        command,
        name: "cluster",
      });
    }
    // The agent that asks for the run (and its editor): it may create tasks and run them on clusters.
    agent = await signer();
    await grant(agent, Commands.task);
    await grant(agent, Commands.runKubernetes);
    const s = d.daemon.node.space(space)!;
    await eventually(
      () => s.authority.chainsFor(agent.did, Commands.runKubernetes, Math.floor(Date.now() / 1000)).length > 0,
      10_000,
      "the agent's delegations in the space",
    );
    const spec: RunSpec = {
      runner: "kubernetes",
      program: base.digest,
      args: ["sleep", "600"],
      inputs: [],
      env: [],
      limits: { wallMs: 600_000, memoryMb: 64, outputBytes: 1 << 20 },
      source: { cid: sourceCid },
      editor: true,
    };
    task = (await s.actAs(agent, "create", { task: newTaskId(), title: "edit under review", run: spec })).id;
  });

  after(async () => {
    await d?.stop();
    await vnode?.close();
    await containers?.close();
    await cp?.stop();
    await rm(state, { recursive: true, force: true });
  });

  it("the task's creator opens the editor and reads the working tree's files through it", async () => {
    const pod = await eventually(
      async () => {
        const pods = await editorPods();
        return pods.find((p) => p.spec?.nodeName === nodeNameFor("team") && p.status?.phase === "Running");
      },
      90_000,
      "the editor pod running on the virtual node",
    ).catch(async (e) => {
      const pods = await cluster.core.listNamespacedPod({ namespace: NS });
      const t = d.daemon.node.space(space)!.task(task);
      throw new Error(
        `${e.message}: pods ${
          JSON.stringify(pods.items.map((p) => [p.metadata?.name, p.spec?.nodeName, p.status]))
        }; task ${JSON.stringify([t?.status, t?.comments])}`,
      );
    });
    assert.ok(pod);
    assert.equal(pod.metadata?.annotations?.["weft.dev/task"], task);
    const asAgent = await grant(agent, Commands.spaceRead);
    const { origin, path, cookie } = await open(asAgent);
    const url = `${origin}${path}`;
    // code-server needs a few seconds to listen once its container started.
    const page = await eventually(
      async () => {
        const res = await fetch(`${url}?folder=/src`, { headers: { cookie } });
        return res.status === 200 ? await res.text() : undefined;
      },
      120_000,
      "code-server's workbench page",
    );
    assert.match(page!, /code-server|vscode/i);
    const file = await fetch(`${url}vscode-remote-resource?path=${enc("/src/README.md")}`, { headers: { cookie } });
    assert.equal(file.status, 200);
    assert.equal(await file.text(), tree);
    // The workbench talks to code-server over a WebSocket: it opens through the same session.
    const socketPath = `${path}?reconnectionToken=${crypto.randomUUID()}&reconnection=false&skipWebSocketFrames=false`;
    assert.equal(await upgrade(origin, socketPath, cookie), 101);
    assert.equal(await upgrade(origin, socketPath), 403);
  });

  it("the editor has its own origin: the dashboard's serves none of it, and it serves nothing else", async () => {
    const asAgent = await grant(agent, Commands.spaceRead);
    const { origin, path, cookie, url } = await open(asAgent);
    const dashboard = new URL(creds.url);
    assert.notEqual(origin, dashboard.origin);
    assert.equal(new URL(origin).hostname, dashboard.hostname);
    assert.equal(origin, d.daemon.editorUrl);
    // The ticket opened the session once; the same link again is refused.
    assert.equal((await fetch(url, { redirect: "manual" })).status, 403);
    // The session works on its origin...
    const file = `${path}vscode-remote-resource?path=${enc("/src/README.md")}`;
    assert.equal((await fetch(`${origin}${file}`, { headers: { cookie } })).status, 200);
    // ...and nowhere on the dashboard's, cookie or not, HTTP or WebSocket.
    const onDashboard = await fetch(`${creds.url}${file}`, { headers: { cookie } });
    assert.equal(onDashboard.status, 404);
    assert.doesNotMatch(await onDashboard.text(), /hello from the tree/);
    assert.equal(await upgrade(creds.url, `${path}?reconnectionToken=${crypto.randomUUID()}`, cookie), 404);
    // The editor's origin serves neither the API nor the dashboard.
    for (const p of ["/", "/index.html", "/v1/node", "/v1/spaces", "/healthz", "/openapi.json"]) {
      assert.equal((await fetch(`${origin}${p}`, { headers: { cookie } })).status, 404, p);
    }
    assert.equal(await upgrade(origin, "/v1/stream", cookie), 404);
    assert.equal(await upgrade(origin, "/v1/sync"), 404);
  });

  it("in Chromium, the dashboard opens the editor on its own origin, whose pages cannot reach the dashboard's key", async () => {
    ensurePwaBuilt();
    const browser = await openProfile();
    try {
      const page = browser.page;
      // The dashboard makes its browser node (a non-extractable key in its origin's IndexedDB) and joins the space.
      await page.goto(creds.url);
      await appReady(page);
      await joinSpace(page, await d.daemon.node.invite(space, { name: "a reviewer in Chromium" }));
      const keysOnDashboard = await page.evaluate(keyCount);
      assert.ok(keysOnDashboard >= 1, "the dashboard keeps its key in IndexedDB");
      await page.goto(`${creds.url}/#/s/${enc(space)}/task/${enc(task)}`);
      const button = page.locator('[data-run-action="editor"]');
      await button.waitFor({ timeout: 60_000 });
      const [tab] = await Promise.all([browser.context.waitForEvent("page"), button.click()]);
      await tab.waitForURL((u) => u.origin === d.daemon.editorUrl && !u.search.includes("ticket"), { timeout: 60_000 });
      await tab.waitForLoadState("load");
      assert.match(await tab.content(), /code-server|vscode/i);
      // What a script of the editor's pages (an extension, a rendered file) can do there:
      assert.equal(await tab.evaluate(keyCount), 0, "no key of the dashboard's on the editor's origin");
      assert.doesNotMatch(await tab.evaluate(() => document.cookie), /weft-editor/);
      assert.equal(await tab.evaluate(() => globalThis.opener), null, "no handle on the dashboard's window");
      const framed = await tab.evaluate(async (dashboard) => {
        const frame = document.createElement("iframe");
        frame.src = dashboard;
        await new Promise((r) => {
          frame.onload = r;
          document.body.append(frame);
        });
        try {
          return frame.contentWindow!.document.documentElement.outerHTML.length > 0 ? "read" : "empty";
        } catch (e) {
          return (e as Error).name;
        }
      }, creds.url);
      assert.equal(framed, "SecurityError");
      // The API answers it only as the stranger it is: the browser refuses to send credentials across origins (or
      // the editor's own policy blocks the call), and without a bearer there is nothing else to authorize it.
      const api = await tab.evaluate(
        (dashboard) =>
          fetch(`${dashboard}/v1/spaces`, { credentials: "include" }).then((r) => r.status, () => "blocked"),
        creds.url,
      );
      assert.equal(api, "blocked");
      const anonymous = await tab.evaluate(
        (dashboard) => fetch(`${dashboard}/v1/spaces`).then((r) => r.status, () => "blocked"),
        creds.url,
      );
      assert.ok(anonymous === 401 || anonymous === "blocked", String(anonymous));
      assert.deepEqual(browser.errors.filter((e) => !/code-server|vscode|workbench/i.test(e.text)), []);
    } finally {
      await browser.close();
    }
  });

  it("a reviewer gets in until revoked; a member who is neither holder nor reviewer, or no cookie, gets 403", async () => {
    const reviewer = await signer();
    const asReviewer = await grant(reviewer, Commands.spaceRead);
    const review = await d.client.request<{ cid: string }>("POST", `/v1/spaces/${enc(space)}/capabilities`, {
      audience: reviewer.did,
      command: Commands.patchReview,
      name: "reviewer",
    });
    const s = d.daemon.node.space(space)!;
    await eventually(
      () => s.authority.chainsFor(reviewer.did, Commands.patchReview, Math.floor(Date.now() / 1000)).length > 0,
      10_000,
      "the reviewer's delegation",
    );
    const { origin, path, cookie } = await open(asReviewer);
    const file = await fetch(`${origin}${path}vscode-remote-resource?path=${enc("/src/README.md")}`, {
      headers: { cookie },
    });
    assert.equal(file.status, 200);
    assert.equal(await file.text(), tree);

    const member = await signer();
    const asMember = await grant(member, Commands.spaceRead);
    assert.deepEqual(
      await statusOf(asMember.raw("POST", `/v1/spaces/${enc(space)}/tasks/${enc(task)}/editor`)),
      [403, "editor/forbidden"],
    );
    const noCookie = await fetch(`${origin}${path}vscode-remote-resource?path=${enc("/src/README.md")}`);
    assert.equal(noCookie.status, 403);
    const wrong = await fetch(`${origin}${path}`, { headers: { cookie: "weft-editor=AAAA" } });
    assert.equal(wrong.status, 403);

    // A reviewer whose delegation is revoked is out at its session's next request.
    await s.revoke(review.cid);
    await eventually(
      async () =>
        (await fetch(`${origin}${path}vscode-remote-resource?path=${enc("/src/README.md")}`, {
          headers: { cookie },
        })).status === 403,
      10_000,
      "the revoked reviewer refused",
    );
  });

  it("the editor pod is gone once the run ends, and its session answers 410", async () => {
    const asAgent = await grant(agent, Commands.spaceRead);
    const { origin, path, cookie } = await open(asAgent);
    const s = d.daemon.node.space(space)!;
    await s.actAs(agent, "cancel", { task });
    await eventually(async () => (await editorPods()).length === 0, 120_000, "the editor pod deleted");
    await eventually(
      async () => (await fetch(`${origin}${path}`, { headers: { cookie } })).status === 410,
      30_000,
      "the session to answer 410",
    );
  });
});
