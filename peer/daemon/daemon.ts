/**
 * The headless peer: a WeftNode on durable storage, libp2p on TCP and
 * WebSocket, the HTTP API and sync endpoints, bootstrap connections kept
 * alive, capacity advertised, CLI credentials issued, and the bridges the
 * config names running as their own DIDs. Each part is started in order
 * through a Lifecycle; `stop` stops them in reverse.
 */
import { join } from "node:path";
import process from "node:process";
import { tcp } from "@libp2p/tcp";
import { webSockets } from "@libp2p/websockets";
import { createNode, type WeftNode } from "#protocol/node";
import { type StockWebSocketAdapter, WebSocketNetworkAdapter } from "#protocol/sync";
import { fileKeystore } from "../keystore/file-keystore.ts";
import { loadOrCreate } from "#protocol/identity";
import { LogStorageAdapter } from "../storage/log-storage.ts";
import { verifyPool } from "../crypto/verify-pool.ts";
import { installNativeSha256 } from "../crypto/native-sha256.ts";
import { nativeSigner } from "../crypto/native-signer.ts";
import { nodeNoiseCrypto } from "../crypto/noise-crypto.ts";
import { ensureDataDir } from "../data-dir.ts";
import { peerDeviceName } from "../device-name.ts";
import { ApiAuthority, ReplayCache } from "../api/auth.ts";
import { ReplayJournal } from "../storage/replay-journal.ts";
import { createApi } from "../api/app.ts";
import { EditorSessions } from "../api/editor-sessions.ts";
import { createEditorApp, editorUpgrade } from "../api/editor-origin.ts";
import { errorBody, statusOf } from "../api/errors.ts";
import { serveStream } from "../api/stream.ts";
import { matchRoute } from "../api/routes.ts";
import { CliKey } from "./cli-key.ts";
import { NodeRevocations } from "./node-revocations.ts";
import { Powerlines } from "./powerlines.ts";
import { serve, type Served } from "../http/serve.ts";
import { renderMetrics } from "./metrics.ts";
import { ArtifactService } from "../artifacts/service.ts";
import { ManifestPinner } from "../artifacts/pinner.ts";
import { RepoService } from "../repo/repo-service.ts";
import { PeerAgents } from "../agents/peer-agents.ts";
import { AgentLoops, DEFAULT_LIMITS } from "../agents/loop/agent-loop.ts";
import { loopTranscripts } from "../agents/loop/transcript-events.ts";
import { serveTranscripts } from "../agents/transcript-serve.ts";
import { AgentAutoRun } from "../agents/loop/auto-run.ts";
import { bridgeJobs, bridgeRuns, type Runs, startRuns } from "./runs.ts";
import { Connector } from "./connector.ts";
import type { Config } from "./config.ts";
import { createLogger, type Logger } from "./logger.ts";
import { createObserver } from "./tracing.ts";
import { VERSION } from "../version.ts";
import { staticFiles } from "../http/static.ts";
import { pairingLink, Pairings } from "../api/pairing.ts";
import { fileURLToPath } from "node:url";
import { Lifecycle } from "./lifecycle.ts";
import { useSharedSpawner } from "../process/spawner.ts";
import { messageOf } from "#protocol";
import { type RunningBridge, startBridge } from "./bridges.ts";
import { type PeerLlm, startLlm } from "../llm/start.ts";

export interface Daemon {
  node: WeftNode;
  config: Config;
  url: string;
  http: Served;
  log: Logger;
  artifacts: ArtifactService;
  runs: Runs;
  /** The bridges weft.toml names, running as their own DIDs. */
  bridges: RunningBridge[];
  /** The editors' own origin (`http://host:port`), when a bridge makes editors; none otherwise. */
  editorUrl?: string;
  /** The LLM router `[llm]` configures (agents call models through it); none without `[llm]`. */
  llm?: PeerLlm;
  /** The agents this peer runs: their keys, records, kill switches and budget hooks. */
  agents: PeerAgents;
  /** A fresh one-time link that makes a browser a device of this peer's spaces. */
  pairingLink(): string;
  stop(): Promise<void>;
}

/**
 * Start every part in order (data dir, tracing, identity, storage, node, artifacts,
 * runs, HTTP, connections, bridges); `stop` stops them in reverse. A part
 * that fails to start stops the ones before it and names itself.
 */
export async function startDaemon(config: Config, log: Logger = createLogger(config.log.level)): Promise<Daemon> {
  const parts = new Lifecycle(log);
  // git is started by a small helper process, not by forking this one, which may hold gigabytes (process/spawner.ts).
  useSharedSpawner().warm().catch((e) =>
    log.warn("the process spawner did not start: git is forked from the peer", { error: messageOf(e) })
  );
  const home = await parts.start("the data dir", () => ensureDataDir(config.home));
  if (home.tightenedFrom !== undefined) {
    log.warn("the data dir was open to other users; made it private (0700)", {
      home: config.home,
      was: home.tightenedFrom.toString(8),
    });
  }
  const observer = await parts.start(
    "tracing",
    () => createObserver(config.telemetry, { name: config.name, version: VERSION }, log.debug),
    (o) => o.close(),
  );
  const keystore = fileKeystore({ dir: join(config.home, "keys") });
  const seed = await parts.start("the node key", async () => {
    await loadOrCreate(keystore, "node");
    return (await keystore.loadSeed("node")) as Uint8Array;
  });
  const signer = nativeSigner(seed);
  installNativeSha256();
  // Signature checks of a burst (a partition healing, a replica catching up) run on the spare cores.
  const verifier = await parts.start(
    "the signature-check workers",
    () =>
      verifyPool({
        onFailure: (error, givenUp) =>
          log.warn(
            givenUp
              ? "a signature-check worker failed again; every check is now done on the main thread"
              : "a signature-check worker failed; its checks were done on the main thread and it is replaced",
            { error: error.message },
          ),
      }),
    (pool) => pool.close(),
  );
  const storage = await parts.start(
    "document storage",
    () => LogStorageAdapter.open({ dir: join(config.home, "docs") }),
    (s) => s.close(),
  );
  const node = await parts.start("the node", async () => {
    const node = await createNode({
      signer,
      verifier,
      keystore,
      storage,
      libp2p: { seed, transports: [tcp(), webSockets()], listen: config.p2p.listen, noiseCrypto: nodeNoiseCrypto },
    });
    if (node.spaces().length === 0) {
      const personal = await node.createSpace("personal", { deviceName: peerDeviceName() });
      log.info("created the personal space", { space: personal.id });
    }
    return node;
  }, (n) => n.stop());
  const ws = node.addNetwork((o) => new WebSocketNetworkAdapter(o));
  const stock = node.addStockWebSocket();
  const connector = new Connector({ libp2p: node.libp2p, ws, log });
  const artifacts = await parts.start("the artifact store", () =>
    ArtifactService.open({
      dir: join(config.home, "artifacts"),
      node,
      verifier,
      ...(config.artifacts.s3 ? { s3: config.artifacts.s3 } : {}),
      warn: (message) => log.warn("S3 artifact store unreachable", { error: message }),
    }), (a) => a.stop());
  await parts.start("manifest pinning", async () => {
    const pinner = new ManifestPinner(artifacts);
    await pinner.start();
    return pinner;
  }, (p) => p.stop());
  const repos = await parts.start("repositories", async () => {
    const service = new RepoService(node, join(config.home, "repos"), {
      log: (msg, fields) => log.warn(msg, fields),
    });
    await service.start();
    return service;
  }, (r) => r.stop());
  const replays = await parts.start(
    "the API replay journal",
    () => ReplayJournal.open(join(config.home, "api-replays.log"), Math.floor(Date.now() / 1000)),
    (r) => r.journal.close(),
  );
  const runs = await parts.start("runs", () => startRuns(config, node, artifacts, log, observer), (r) => r.stop());
  const llm = config.llm &&
    await parts.start(
      "the LLM router",
      () => startLlm(config.llm!, { env: process.env, keysDir: join(config.home, "keys") }, log),
    );
  const auth = new ApiAuthority(node, verifier, new ReplayCache(replays));
  const nodeRevocations = await NodeRevocations.open(config.home, auth.nodeRevocations);
  const cliKey = new CliKey(config.home, node, signer, nodeRevocations);
  const powerlines = await Powerlines.open(config.home, node, nodeRevocations);
  const agents = await parts.start(
    "agents",
    () => new PeerAgents({ home: config.home, keystore }),
    (a) => a.close(),
  );
  const limits = { ...DEFAULT_LIMITS, leaseMs: config.agents.leaseSeconds * 1000 };
  const loops = new AgentLoops({ node, agents, llm, repos, artifacts, scheduler: runs.scheduler, limits });
  await parts.start(
    "agent transcripts",
    () => serveTranscripts(node, { source: loopTranscripts(agents, loops) }),
    (t) => t.stop(),
  );
  // Without [llm] no loop can run: agents named to run say so once, at start.
  const autoRun = llm &&
    new AgentAutoRun({
      node,
      agents,
      loops,
      configured: config.agents.run,
      warn: (msg, fields) => log.warn(msg, fields),
    });
  if (!llm && config.agents.run.length > 0) {
    log.warn("[agents] run names agents, but this peer has no [llm] section: they do not run", {
      agents: config.agents.run,
    });
  }
  let ready = false;
  const pairings = new Pairings();
  const bridges: RunningBridge[] = [];
  const editors = {
    find: (space: string, task: string) => bridges.map((b) => b.editors?.find(space, task)).find(Boolean),
  };
  const editorSessions = new EditorSessions();
  const virtualNodes = {
    list: async () => (await Promise.all(bridges.map((b) => b.virtualNodes?.list() ?? []))).flat(),
    cordon: async (name: string, cordoned: boolean) => {
      for (const b of bridges) {
        const report = await b.virtualNodes?.cordon(name, cordoned);
        if (report) return report;
      }
      return undefined;
    },
  };
  let editorListener: Served | undefined;
  const http = await parts.start("the HTTP API", () =>
    serve({
      app: createApi({
        pairings,
        node,
        auth,
        name: config.name,
        version: VERSION,
        metrics: () => renderMetrics(node, { api_sessions: auth.openSessions }) + (llm?.metrics.render() ?? ""),
        ready: () => ready,
        connect: (address) => connector.add(address),
        capacity: () => runs.capacity.current(),
        scheduler: runs.scheduler,
        artifacts,
        repos,
        dashboard: staticFiles(fileURLToPath(new URL("../../pwa/dist", import.meta.url))),
        log: (msg, fields) => log.error(msg, fields),
        observer,
        cliKey,
        powerlines,
        agents,
        loops,
        ...(autoRun ? { autoRun } : {}),
        editors,
        editorSessions,
        editorOrigin: { port: () => editorListener?.port },
        virtualNodes,
      }),
      host: config.http.host,
      port: config.http.port,
      upgrade: upgrades(node, auth, ws, stock),
    }), (h) => {
    ready = false;
    return h.close();
  });
  const url = `http://${http.host}:${http.port}`;
  await parts.start("CLI credentials", () => cliKey.start(url));
  await parts.start("peer connections", () => {
    for (const address of config.p2p.bootstrap) {
      connector.add(address).catch((e) =>
        log.warn("bootstrap address refused", { address, error: (e as Error).message })
      );
    }
  }, () => connector.stop());
  const jobs = bridgeJobs(config, node, artifacts, log, observer);
  const followed = bridgeRuns(node, runs, artifacts);
  for (const setting of config.bridges) {
    bridges.push(
      await parts.start(
        `the bridge ${setting.name}`,
        () =>
          startBridge(
            setting,
            node,
            keystore,
            log,
            config.home,
            llm,
            jobs,
            followed,
            (s, n) => repos.repos.existing(s, n),
          ),
        (b) => b.close(),
      ),
    );
  }
  if (bridges.some((b) => b.editors)) {
    // Editors run pages of their own: served from another origin than the dashboard's (editor-origin.ts).
    const access = { node, editors, sessions: editorSessions };
    editorListener = await parts.start("the editors' origin", () =>
      serve({
        app: createEditorApp(access),
        host: config.http.host,
        port: config.http.editorPort,
        upgrade: editorUpgrade(access),
      }), (h) => h.close());
  }
  const editorUrl = editorListener && `http://${editorListener.host}:${editorListener.port}`;
  if (autoRun) await parts.start("agent loops", () => autoRun.start(), () => autoRun.stop());
  ready = true;
  log.info("peer ready", {
    did: node.did,
    http: url,
    ...(editorUrl ? { editors: editorUrl } : {}),
    p2p: node.libp2p?.getMultiaddrs().map(String) ?? [],
    spaces: node.spaces().map((s) => ({ id: s.id, name: s.name })),
  });

  let stopping: Promise<void> | undefined;
  return {
    node,
    config,
    url,
    http,
    log,
    artifacts,
    runs,
    bridges,
    ...(editorUrl ? { editorUrl } : {}),
    llm,
    agents,
    pairingLink: () => pairingLink(url, pairings.mint().code),
    stop: () =>
      stopping ??= (async () => {
        ready = false;
        await parts.stop();
        log.info("peer stopped");
      })(),
  };
}

/** The WebSocket endpoints: Weft sessions and stock automerge clients on /v1/sync, live events on /v1/stream. */
function upgrades(
  node: WeftNode,
  auth: ApiAuthority,
  ws: WebSocketNetworkAdapter,
  stock: StockWebSocketAdapter,
): NonNullable<Parameters<typeof serve>[0]["upgrade"]> {
  return async (url) => {
    try {
      if (url.pathname === "/v1/sync") {
        const token = url.searchParams.get("token");
        // A Weft session authenticates inside the socket: admitted once it proved a space.
        if (token === null) return { accept: (socket, admit) => void ws.accept(socket, admit) };
        const grant = await auth.syncToken(token);
        return {
          accept: (socket, admit) => {
            admit();
            stock.accept(socket, grant);
          },
        };
      }
      if (url.pathname === "/v1/stream") {
        const token = url.searchParams.get("token");
        const route = matchRoute("GET", "/v1/stream")!.route as Parameters<typeof auth.query>[1];
        await auth.query(token, route, {}, { method: "GET", path: "/v1/stream" });
        return {
          accept: (socket, admit) => {
            admit();
            serveStream(node, socket);
          },
        };
      }
      return {
        status: 404,
        body: { error: { code: "not-found", message: `no WebSocket endpoint ${url.pathname}` } },
      };
    } catch (e) {
      return { status: statusOf(e), body: errorBody(e) };
    }
  };
}
