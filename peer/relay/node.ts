/**
 * The relay on Node (or Deno with a data dir): `node peer/relay/node.ts`.
 * Its key lives in the keystore under $WEFT_HOME, its documents in the
 * durable log; it listens on WEFT_HTTP_HOST:WEFT_HTTP_PORT.
 */
import { join } from "node:path";
import process from "node:process";
import { loadConfig } from "../daemon/config.ts";
import { createLogger } from "../daemon/logger.ts";
import { ensureDataDir } from "../data-dir.ts";
import { fileKeystore } from "../keystore/file-keystore.ts";
import { loadOrCreate } from "#protocol/identity";
import { LogStorageAdapter } from "../storage/log-storage.ts";
import { nativeVerifier } from "../crypto/native-verifier.ts";
import { installNativeSha256 } from "../crypto/native-sha256.ts";
import { serve } from "../http/serve.ts";
import { isWeftError } from "#protocol";
import { createRelay } from "./relay.ts";

let config;
try {
  config = await loadConfig(process.env);
} catch (e) {
  process.stderr.write(`weft relay: ${isWeftError(e) ? e.message : e}\n`);
  process.exit(2);
}
const log = createLogger(config.log.level);
installNativeSha256();
await ensureDataDir(config.home);
const { signer } = await loadOrCreate(fileKeystore({ dir: join(config.home, "keys") }), "relay");
const storage = await LogStorageAdapter.open({ dir: join(config.home, "relay-docs") });
const relay = await createRelay({
  signer,
  storage,
  verifier: nativeVerifier(),
  ...(config.relay.spaces.length ? { spaces: config.relay.spaces } : {}),
});
const http = await serve({
  app: relay.app,
  host: config.http.host,
  port: config.http.port,
  upgrade: (url) => relay.upgrade(url),
});
process.stdout.write(`Weft relay ${relay.node.did}\n  sync   ws://${http.host}:${http.port}/v1/sync\n`);
log.info("relay ready", { did: relay.node.did, port: http.port });
const stop = async () => {
  await http.close();
  await relay.stop();
  await storage.close();
  process.exit(0);
};
process.once("SIGINT", () => void stop());
process.once("SIGTERM", () => void stop());
