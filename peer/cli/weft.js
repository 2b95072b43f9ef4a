#!/usr/bin/env node
/**
 * `weft`: the command line for a Weft peer (the commands: registry.ts,
 * dispatched by dispatch.ts, run by weft.ts). This entry is plain
 * JavaScript on purpose: Node strips the types of a .ts entry before any
 * of its code runs, which loads its TypeScript stripper (amaro) on every
 * run and costs more than Node's own start. From here, Node's compile
 * cache is turned on (compile-cache.js) before any TypeScript loads.
 */
import { enableCompileCache } from "./compile-cache.js";

enableCompileCache();
await import("./weft.ts");
