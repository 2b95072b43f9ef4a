/**
 * `weft nix gc`: collect this peer's nix store now. The nix runner already
 * collects after a run once its store passes `max_store_mb`; this is the
 * same collection (bridges/nix/store-gc.ts) on demand, run in the peer's
 * own store whether or not the daemon is up (nix's GC lock keeps it from
 * racing a build). Unrooted paths always go; `--max-mb N` also drops the
 * oldest runs' output roots until the store fits in N MB.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { WeftError } from "#protocol";
import { type NixConfig, nixPaths, writeNixConf } from "../../bridges/nix/config.ts";
import { collectGarbage } from "../../bridges/nix/store-gc.ts";
import { loadConfig } from "../daemon/config.ts";
import { runnersCacheDir, runnerStateDir } from "../daemon/runner-plugins.ts";
import { count } from "./args.ts";
import type { Command } from "./command.ts";

const mb = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MB`;

export const NIX_COMMANDS: Record<string, Command> = {
  "nix gc": {
    usage: "weft nix gc [--max-mb N]",
    summary: "Collect this peer's nix store: unrooted paths, and with --max-mb the oldest runs' outputs past N MB",
    options: { "max-mb": { type: "string" } },
    async run(_a, v, io) {
      const config = await loadConfig({ ...process.env, WEFT_HOME: io.home });
      const nix = config.runners.find((r) => r.plugin.kind === "nix");
      if (!nix) throw new WeftError("Unavailable", "runner/unavailable", "this peer has no nix runner to collect");
      const maxMb = count(v, "max-mb", 1 << 30);
      const paths = nixPaths(nix.config as NixConfig, runnerStateDir(runnersCacheDir(config.home), "nix"));
      if (!existsSync(join(paths.storeRoot, "store"))) {
        throw new WeftError(
          "NotFound",
          "not-found",
          `no nix store at ${paths.storeRoot}: this peer's nix runner has not started here yet`,
        );
      }
      await writeNixConf(paths.confDir);
      const c = await collectGarbage(paths, maxMb === undefined ? undefined : maxMb * 1024 * 1024);
      const freed = c.beforeBytes - c.afterBytes;
      io.print(
        { ...c, freedBytes: freed, store: paths.storeRoot },
        () =>
          `freed ${mb(freed)}: the store went from ${mb(c.beforeBytes)} to ${mb(c.afterBytes)} (${paths.storeRoot})\n` +
          `${c.runsKept} run(s) keep their outputs` + (c.runsDropped ? `; ${c.runsDropped} older run(s) dropped` : ""),
      );
    },
  },
};
