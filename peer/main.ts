/** `npm start`: run this peer in the foreground (same as `weft up`). */
import { runDaemon } from "./run-daemon.ts";

await runDaemon();
