/**
 * What MCP costs per call: `read_task` through `weft mcp` (a fresh server
 * process, over stdio and over streamable HTTP, driven by the MCP SDK's
 * client) against the same principal's same API request made directly
 * (loadPrincipal in this process: the request `weft mcp` makes for that
 * tool, signed the same way). Both against one peer process; calls
 * alternate in rounds so machine drift hits every figure alike. Also the
 * time from spawning `weft mcp` to its tool list, against `node -e 0`.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { loadPrincipal } from "../../peer/mcp/principal.ts";
import { newTaskId } from "../../protocol/space/space.ts";
import { percentile, report } from "./report.ts";
import { startPeer, stopPeer } from "../helpers/peer-process.ts";
import { CLI, principalFiles } from "../mcp/principal-files.ts";
import { serveHttp } from "../mcp/transports.ts";
import { authorizedClient } from "../mcp/oauth-flow.ts";

const BENCH = "mcp";
const ROUNDS = 10;
const CALLS = 20;

const peer = await startPeer();
const dir = await mkdtemp(join(tmpdir(), "weft-mcp-bench-"));
const children: Array<{ kill(): void }> = [];
try {
  const api = await peer.api();
  const { spaces } = await api.get<{ spaces: Array<{ id: string }> }>("/v1/spaces");
  const space = spaces[0].id;
  const task = newTaskId();
  await api.op(space, "create", { task, title: "benchmark task", body: "x".repeat(2000) });
  const p = await principalFiles({ home: peer.home, client: api }, space, dir, "bench", ["/weft/space/read"]);
  const env = { ...process.env, WEFT_HOME: peer.home } as Record<string, string>;

  const direct = await loadPrincipal({ keyFile: p.key, chainFiles: p.chains, home: peer.home });
  const path = `/v1/spaces/${encodeURIComponent(space)}/tasks/${task}`;

  const spawnedAt = performance.now();
  const stdio = new Client({ name: "bench", version: "1" });
  await stdio.connect(new StdioClientTransport({ command: process.execPath, args: [CLI, ...p.args], env }));
  await stdio.listTools();
  const startup = performance.now() - spawnedAt;
  const nodeStart = performance.now();
  await new Promise((r) => spawn(process.execPath, ["-e", "0"]).once("exit", r));
  const nodeStartup = performance.now() - nodeStart;

  const served = await serveHttp({ home: peer.home });
  children.push(served.child);
  const { client: http } = await authorizedClient(served.url, peer.home, ["/weft/space/read"], "bench");

  const ways: Record<string, () => Promise<unknown>> = {
    direct: () => direct.get(path),
    stdio: () => stdio.callTool({ name: "read_task", arguments: { task } }),
    http: () => http.callTool({ name: "read_task", arguments: { task } }),
  };
  const samples: Record<string, number[]> = { direct: [], stdio: [], http: [] };
  for (const fn of Object.values(ways)) for (let i = 0; i < CALLS; i++) await fn(); // warm up
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, fn] of Object.entries(ways)) {
      for (let i = 0; i < CALLS; i++) {
        const t = performance.now();
        await fn();
        samples[name].push(performance.now() - t);
      }
    }
  }
  const median = (k: string) => percentile(samples[k].sort((a, b) => a - b), 50);
  for (const way of ["stdio", "http"]) {
    report({
      bench: BENCH,
      metric: `read_task over ${way} ms`,
      value: median(way),
      unit: "ms",
      baseline: median("direct"),
      note: "baseline: the same principal's same API request, made directly",
    });
  }
  report({
    bench: BENCH,
    metric: "weft mcp spawn to tool list ms",
    value: startup,
    unit: "ms",
    baseline: nodeStartup,
    note: "baseline: node -e 0 (one sample each)",
  });
  await Promise.all([stdio.close(), http.close()]);
} finally {
  for (const c of children) c.kill();
  await stopPeer(peer);
  await rm(dir, { recursive: true, force: true });
}
