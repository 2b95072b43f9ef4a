/**
 * The headless peer: a WeftNode on durable storage, libp2p on TCP and
 * WebSocket, the HTTP API and sync endpoints, bootstrap connections kept
 * alive, capacity advertised, and CLI credentials issued. `startDaemon`
 * returns once everything listens; `stop` flushes and closes in order.
 */
import { join } from "node:path";
import { tcp } from "@libp2p/tcp";
import { webSockets } from "@libp2p/websockets";
import { createNode, type WeftNode } from "#protocol/node";
import { WebSocketNetworkAdapter } from "#protocol/sync";
import { fileKeystore } from "../keystore/file-keystore.ts";
import { loadOrCreate } from "#protocol/identity";
import { LogStorageAdapter } from "../storage/log-storage.ts";
import { nativeVerifier } from "../crypto/native-verifier.ts";
import { nativeSigner } from "../crypto/native-signer.ts";
import { ensureDataDir } from "../data-dir.ts";
import { peerDeviceName } from "../device-name.ts";
import { ApiAuthority, ReplayCache } from "../api/auth.ts";
import { ReplayJournal } from "../storage/replay-journal.ts";
import { createApi } from "../api/app.ts";
import { errorBody, statusOf } from "../api/errors.ts";
import { serveStream } from "../api/stream.ts";
import { matchRoute } from "../api/routes.ts";
import { issueCredentials } from "../api/credentials.ts";
import { serve, type Served } from "../http/serve.ts";
import { renderMetrics } from "./metrics.ts";
import { ArtifactService } from "../artifacts/service.ts";
import { ManifestPinner } from "../artifacts/pinner.ts";
import { type Runs, startRuns } from "./runs.ts";
import { Connector } from "./connector.ts";
import type { Config } from "./config.ts";
import { createLogger, type Logger } from "./logger.ts";
import { createObserver } from "./tracing.ts";
import { VERSION } from "../version.ts";
import { staticFiles } from "../http/static.ts";
import { pairingLink, Pairings } from "../api/pairing.ts";
import { fileURLToPath } from "node:url";

export interface Daemon {
  node: WeftNode;
  config: Config;
  url: string;
  http: Served;
  log: Logger;
  artifacts: ArtifactService;
  runs: Runs;
  /** A fresh one-time link that makes a browser a device of this peer's spaces. */
  pairingLink(): string;
  stop(): Promise<void>;
}

export async function startDaemon(config: Config, log: Logger = createLogger(config.log.level)): Promise<Daemon> {
  const home = await ensureDataDir(config.home);
  if (home.tightenedFrom !== undefined) {
    log.warn("the data dir was open to other users; made it private (0700)", {
      home: config.home,
      was: home.tightenedFrom.toString(8),
    });
  }
  const keystore = fileKeystore({ dir: join(config.home, "keys") });
  await loadOrCreate(keystore, "node");
  const seed = (await keystore.loadSeed("node")) as Uint8Array;
  const signer = nativeSigner(seed);
  const verifier = nativeVerifier();
  const storage = await LogStorageAdapter.open({ dir: join(config.home, "docs") });
  const node = await createNode({
    signer,
    verifier,
    keystore,
    storage,
    libp2p: { seed, transports: [tcp(), webSockets()], listen: config.p2p.listen },
  });
  if (node.spaces().length === 0) {
    const personal = await node.createSpace("personal", { deviceName: peerDeviceName() });
    log.info("created the personal space", { space: personal.id });
  }
  const ws = node.addNetwork((o) => new WebSocketNetworkAdapter(o));
  const stock = node.addStockWebSocket();
  const connector = new Connector({ libp2p: node.libp2p, ws, log });
  const artifacts = await ArtifactService.open({
    dir: join(config.home, "artifacts"),
    node,
    verifier,
    ...(config.artifacts.s3 ? { s3: config.artifacts.s3 } : {}),
    warn: (message) => log.warn("S3 artifact store unreachable", { error: message }),
  });
  const pinner = new ManifestPinner(artifacts);
  const observer = await createObserver(config.telemetry, { name: config.name, version: VERSION }, log.debug);
  const runs = await startRuns(config, node, artifacts, log, observer);
  const replays = await ReplayJournal.open(join(config.home, "api-replays.log"), Math.floor(Date.now() / 1000));
  const auth = new ApiAuthority(node, verifier, new ReplayCache(replays));
  let ready = false;
  const pairings = new Pairings();
  const app = createApi({
    pairings,
    node,
    auth,
    name: config.name,
    version: VERSION,
    metrics: () => renderMetrics(node),
    ready: () => ready,
    connect: (address) => connector.add(address),
    capacity: () => runs.capacity.current(),
    scheduler: runs.scheduler,
    artifacts,
    dashboard: staticFiles(fileURLToPath(new URL("../../pwa/dist", import.meta.url))),
    log: (msg, fields) => log.error(msg, fields),
    observer,
  });
  const http = await serve({
    app,
    host: config.http.host,
    port: config.http.port,
    upgrade: async (url) => {
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
    },
  });
  const url = `http://${http.host}:${http.port}`;
  await issueCredentials(config.home, signer, url);
  for (const address of config.p2p.bootstrap) {
    connector.add(address).catch((e) =>
      log.warn("bootstrap address refused", { address, error: (e as Error).message })
    );
  }
  await pinner.start();
  ready = true;
  log.info("peer ready", {
    did: node.did,
    http: url,
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
    pairingLink: () => pairingLink(url, pairings.mint().code),
    stop: () =>
      stopping ??= (async () => {
        ready = false;
        await runs.stop();
        connector.stop();
        await http.close();
        await replays.journal.close();
        pinner.stop();
        await artifacts.stop();
        await node.stop();
        await storage.close();
        await observer.close();
        log.info("peer stopped");
      })(),
  };
}
