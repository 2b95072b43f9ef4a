/**
 * Entry point of a Node sandbox subprocess: its stdio carries the framed
 * messages (see sandbox/serve-framed.ts). The runner starts it with an
 * empty environment, a V8 heap limit and Node's permission model (it may
 * read only the code it loads), and kills it when the job ends.
 */
import process from "node:process";
import { serveFramed } from "../sandbox/serve-framed.ts";
import { writeSomeSync } from "./write-sync.ts";

serveFramed({ stdin: process.stdin, writeSync: (bytes) => writeSomeSync(1, bytes) });
