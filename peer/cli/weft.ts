#!/usr/bin/env node
/**
 * `weft`: the command line for a Weft peer (the commands: registry.ts,
 * dispatched by dispatch.ts). This entry turns on Node's compile cache
 * before anything else loads, so a command's second run reuses the
 * type-stripped, compiled code of every module it loads: with registry.ts
 * loading only the command's own area, that is what brings `weft id` from
 * about a second down to tens of milliseconds of CPU.
 *
 * The cache lives in this user's cache folder, not the shared temp dir
 * Node picks by default: compiled code another local user could write
 * must never be what we run. NODE_COMPILE_CACHE picks another folder;
 * NODE_DISABLE_COMPILE_CACHE=1 turns it off.
 */
import { enableCompileCache } from "node:module";
import { homedir } from "node:os";
import { join } from "node:path";
import process from "node:process";

enableCompileCache(
  process.env.NODE_COMPILE_CACHE ??
    join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "weft", "node-compile-cache"),
);
const [{ main }, { EXIT }] = await Promise.all([import("./dispatch.ts"), import("./exit-codes.ts")]);
const code = await main(process.argv.slice(2));
if (code !== EXIT.ok || process.argv[2] !== "up") process.exit(code);
