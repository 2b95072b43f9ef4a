/**
 * `weft up`: the peer in the foreground. The daemon is imported when the
 * command runs, not when its area loads, so `weft --help` (which loads
 * every area for the summaries) does not load the daemon either.
 */
import type { Command } from "./command.ts";

export const UP_COMMANDS: Record<string, Command> = {
  up: {
    usage: "weft up",
    summary: "Start the peer in the foreground (same as npm start)",
    async run() {
      await (await import("../run-daemon.ts")).runDaemon();
    },
  },
};
