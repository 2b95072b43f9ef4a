/**
 * Runs one `weft` command (argv → dispatch.ts) and exits with its code once its output is out (exit-flushed.ts);
 * `weft up` alone keeps the process for the daemon. weft.js, the entry
 * (the package's bin), turns on Node's compile cache and then loads this;
 * `node peer/cli/weft.ts` works too, without the cache, so slower.
 */
import process from "node:process";
import { main } from "./dispatch.ts";
import { EXIT } from "./exit-codes.ts";
import { exitFlushed } from "./exit-flushed.ts";

const code = await main(process.argv.slice(2));
if (code !== EXIT.ok || process.argv[2] !== "up") await exitFlushed(code);
