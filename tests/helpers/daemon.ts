/** Real daemons in this process for API tests: temp home, ports picked by the OS. */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Daemon, startDaemon } from "../../peer/daemon/daemon.ts";
import { loadConfig } from "../../peer/daemon/config.ts";
import { createLogger } from "../../peer/daemon/logger.ts";
import { ApiClient } from "../../peer/api/client.ts";
import { loadCredentials } from "../../peer/api/credentials.ts";

export interface TestDaemon {
  daemon: Daemon;
  home: string;
  client: ApiClient;
  stop(): Promise<void>;
}

/** A daemon on a fresh home; `toml`, if given, is its weft.toml (an `[llm]` section, say). */
export async function testDaemon(env: Record<string, string> = {}, toml?: string): Promise<TestDaemon> {
  const home = await mkdtemp(join(tmpdir(), "weft-daemon-"));
  if (toml !== undefined) await writeFile(join(home, "weft.toml"), toml);
  const config = await loadConfig({
    WEFT_HOME: home,
    WEFT_HTTP_PORT: "0",
    WEFT_P2P_LISTEN: "/ip4/127.0.0.1/tcp/0,/ip4/127.0.0.1/tcp/0/ws",
    WEFT_LOG_LEVEL: "error",
    ...env,
  });
  const daemon = await startDaemon(config, createLogger("error", () => {}));
  const client = new ApiClient(await loadCredentials(home));
  return {
    daemon,
    home,
    client,
    async stop() {
      await daemon.stop();
      await rm(home, { recursive: true, force: true });
    },
  };
}
