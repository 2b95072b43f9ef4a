/**
 * Entry point of a Node transpile subprocess (core/transpile-process.ts):
 * one request frame on stdin, one reply frame on stdout, under a heap limit.
 */
import process from "node:process";
import { serveTranspile } from "../core/transpile-process.ts";
import { writeAllSync } from "./write-sync.ts";

await serveTranspile(process.stdin, (bytes) => writeAllSync(1, bytes));
