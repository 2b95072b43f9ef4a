/**
 * `weft up`: the peer in the foreground. Its own file, so that no other
 * command loads the daemon.
 */
import { runDaemon } from "../run-daemon.ts";
import type { Command } from "./command.ts";

export const UP_COMMANDS: Record<string, Command> = {
  up: {
    usage: "weft up",
    summary: "Start the peer in the foreground (same as npm start)",
    async run() {
      await runDaemon();
    },
  },
};
