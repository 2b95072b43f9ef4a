#!/usr/bin/env node
/**
 * `git-remote-weft`, the program git runs for `weft::<space>/<repo>`
 * remotes on every fetch and push (the bin npm installs; the helper itself
 * is git-remote-weft.ts). Plain JavaScript for the reason `weft.js` is: a
 * .ts entry would load Node's TypeScript stripper on every run; from here
 * the compile cache (compile-cache.js) is on before any TypeScript loads.
 */
import { enableCompileCache } from "./compile-cache.js";

enableCompileCache();
await import("./git-remote-weft.ts");
