/**
 * Transpiling a component in a `node` subprocess (transpile-child.ts) under
 * subprocess.ts's limits, for a Node peer (see core/transpile-process.ts for
 * why). Each component is transpiled once and then cached by CID, so the
 * process's start-up cost is paid once per program.
 */
import type { ChildIo } from "../core/framed-process.ts";
import { transpileInChild, type TranspileProcessOptions } from "../core/transpile-process.ts";
import type { TranspileFn } from "../core/transpile.ts";
import { exitOf, spawnNode } from "./subprocess.ts";

const CHILD = new URL("./transpile-child.ts", import.meta.url);

function spawn(heapMb: number): ChildIo {
  // jco's bindings load preview2-shim's Node build, which starts a worker thread for its blocking calls.
  const child = spawnNode(CHILD, heapMb, true);
  return {
    stdout: child.stdout,
    stderr: child.stderr,
    status: exitOf(child),
    writeAndClose: (bytes) => child.stdin.end(bytes),
    kill: () => void child.kill("SIGKILL"),
    setKeepAlive: () => {},
  };
}

export function subprocessTranspile(options: TranspileProcessOptions = {}): TranspileFn {
  return transpileInChild(spawn, options);
}
