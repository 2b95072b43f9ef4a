/**
 * Run the peer in the foreground until SIGINT/SIGTERM, then stop cleanly
 * (flush, close, exit 0). Shared by `npm start` and `weft up`.
 */
import process from "node:process";
import { loadConfig } from "./daemon/config.ts";
import { startDaemon } from "./daemon/daemon.ts";
import { createLogger } from "./daemon/logger.ts";
import { isWeftError } from "#protocol";
import { PAIRING_TTL_MS } from "./api/pairing.ts";
import { tuneHeapForBulkBytes } from "./daemon/heap-flags.ts";

export async function runDaemon(): Promise<void> {
  tuneHeapForBulkBytes();
  let config;
  try {
    config = await loadConfig(process.env);
  } catch (e) {
    process.stderr.write(`weft: ${isWeftError(e) ? e.message : e}\n`);
    process.exit(2);
  }
  const log = createLogger(config.log.level);
  let daemon;
  try {
    daemon = await startDaemon(config, log);
  } catch (e) {
    if (!isWeftError(e)) throw e;
    process.stderr.write(`weft: ${e.message}\n`);
    process.exit(2);
  }
  process.stdout.write(
    [
      `Weft peer ${daemon.node.did}`,
      `  dashboard   ${daemon.url}/`,
      `  api         ${daemon.url}/v1  (OpenAPI: ${daemon.url}/openapi.json)`,
      `  p2p         ${daemon.node.libp2p?.getMultiaddrs().join("  ") ?? "-"}`,
      `  data        ${config.home}`,
      `  admin token the CLI uses ${config.home}/cli.json; for curl: npx weft token GET /v1/node`,
      "",
      `To make this browser a device of this peer's spaces, open (once, within ${PAIRING_TTL_MS / 60_000} minutes):`,
      `    ${daemon.pairingLink()}`,
      "",
    ].join("\n"),
  );
  const stop = async (signal: string) => {
    log.info("stopping", { signal });
    await daemon.stop();
    process.exit(0);
  };
  process.once("SIGINT", () => void stop("SIGINT"));
  process.once("SIGTERM", () => void stop("SIGTERM"));
}
