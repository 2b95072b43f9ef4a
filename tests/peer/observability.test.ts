/**
 * Observability of a real peer process: its OpenTelemetry traces reach an
 * OTLP/HTTP receiver on loopback as one trace from the API request through
 * the space, the scheduler and the runner to the artifact store, with the
 * request's correlation id in the peer's JSON logs; and Debian's Prometheus
 * scrapes its /metrics.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { createServer, type Server } from "node:http";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { type AddressInfo, createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildSamples } from "../../wasm-runners/samples/build.ts";
import { eventually } from "../helpers/nodes.ts";
import { type PeerProcess, startPeer, stopPeer, weft } from "../helpers/peer-process.ts";

interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: Record<string, unknown>;
}

/** A minimal OTLP/HTTP (JSON) trace receiver: what a collector would get. */
async function otlpReceiver(): Promise<{ server: Server; url: string; spans: ReceivedSpan[] }> {
  const spans: ReceivedSpan[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      if (req.method !== "POST" || req.url !== "/v1/traces") {
        res.writeHead(404).end();
        return;
      }
      assert.match(String(req.headers["content-type"]), /application\/json/);
      for (const rs of JSON.parse(body).resourceSpans ?? []) {
        for (const ss of rs.scopeSpans ?? []) {
          for (const s of ss.spans ?? []) {
            const attributes = Object.fromEntries(
              (s.attributes ?? []).map((a: { key: string; value: Record<string, unknown> }) => [
                a.key,
                Object.values(a.value)[0],
              ]),
            );
            spans.push({
              traceId: s.traceId,
              spanId: s.spanId,
              parentSpanId: s.parentSpanId || undefined,
              name: s.name,
              attributes,
            });
          }
        }
      }
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`, spans };
}

async function freePort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

describe("observability of a peer process", { timeout: 240_000 }, () => {
  let dir: string;
  let receiver: Awaited<ReturnType<typeof otlpReceiver>>;
  let peer: PeerProcess;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "weft-obs-"));
    receiver = await otlpReceiver();
    await writeFile(join(dir, "hasher.wasm"), (await buildSamples()).hasher.component);
    await writeFile(join(dir, "input.txt"), "traced\n");
    peer = await startPeer({ WEFT_OTLP_ENDPOINT: receiver.url, WEFT_LOG_LEVEL: "debug", WEFT_SLOTS: "1" });
  });

  after(async () => {
    await stopPeer(peer);
    receiver.server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("a job's trace runs from the API request to the artifact store, its correlation id in the logs", async () => {
    const pod = JSON.parse(
      await weft(
        peer,
        "run",
        join(dir, "hasher.wasm"),
        "input.txt",
        "--input",
        `input.txt=${join(dir, "input.txt")}`,
        "--wait",
        "--json",
      ),
    );
    assert.equal(pod.state, "succeeded", pod.summary);
    const named = (name: string) =>
      receiver.spans.find((s) => s.name === name && s.attributes["weft.task"] === pod.task);
    const store = (await eventually(() => named("artifacts.record-run"), 30_000, "the artifact store's span"))!;
    const run = receiver.spans.find((s) => s.spanId === store.parentSpanId)!;
    assert.equal(run?.name, "scheduler.run");
    const runner = receiver.spans.find((s) => s.name === "runner.wasm" && s.parentSpanId === run.spanId);
    assert.ok(runner, "the runner's span is a child of the scheduler's");
    const submit = receiver.spans.find((s) => s.spanId === run.parentSpanId)!;
    assert.equal(submit?.name, "space.submit");
    assert.equal(submit.attributes["weft.task"], pod.task);
    const request = receiver.spans.find((s) => s.spanId === submit.parentSpanId)!;
    assert.equal(request?.name, "POST /v1/spaces/:space/schedule");
    assert.equal(request.attributes["http.response.status_code"], 201);
    for (const s of [run, runner, submit, store]) {
      assert.equal(s!.traceId, request.traceId, `${s!.name} is in the trace`);
    }

    const correlation = request.attributes["weft.correlation_id"];
    assert.equal(correlation, request.traceId, "with no x-request-id sent, the trace id is the correlation id");
    const logs = peer.out.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
    assert.ok(
      logs.some((l) =>
        l.msg === "request" && l.route === "/v1/spaces/:space/schedule" && l.correlation === correlation
      ),
      "the request's log line carries its correlation id",
    );
  });

  it("a client's x-request-id is kept, echoed, and a malformed one replaced", async () => {
    const { url } = JSON.parse(await readFile(join(peer.home, "cli.json"), "utf8"));
    const mine = await fetch(`${url}/healthz`, { headers: { "x-request-id": "deploy-42.a" } });
    assert.equal(mine.headers.get("x-request-id"), "deploy-42.a");
    const bad = await fetch(`${url}/healthz`, { headers: { "x-request-id": "x".repeat(65) } });
    assert.match(bad.headers.get("x-request-id")!, /^[0-9a-f]{32}$/);
    await eventually(
      () => receiver.spans.some((s) => s.attributes["weft.correlation_id"] === "deploy-42.a"),
      30_000,
      "the span",
    );
  });

  it("Prometheus scrapes the peer's /metrics", async () => {
    const { url } = JSON.parse(await readFile(join(peer.home, "cli.json"), "utf8"));
    const target = new URL(url).host;
    const config = join(dir, "prometheus.yml");
    await writeFile(
      config,
      `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: weft\n    metrics_path: /metrics\n    static_configs:\n      - targets: ["${target}"]\n`,
    );
    const port = await freePort();
    let prometheus: ChildProcess | undefined;
    let out = "";
    try {
      prometheus = spawn("prometheus", [
        `--config.file=${config}`,
        `--storage.tsdb.path=${join(dir, "tsdb")}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ], { stdio: ["ignore", "pipe", "pipe"] });
      prometheus.on("error", (e) => (out += `${e.message} (is Debian's prometheus installed? run .ci/setup)`));
      prometheus.stderr!.on("data", (d) => (out += d));
      const query = async (q: string) => {
        const r = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(q)}`);
        const body = await r.json() as { data: { result: Array<{ value: [number, string] }> } };
        return body.data.result[0]?.value[1];
      };
      const spaces = await eventually(() => query('weft_spaces{job="weft"}'), 60_000, `a scrape (prometheus: ${out})`);
      assert.equal(spaces, "1", "the peer is in its personal space");
      assert.equal(await query('up{job="weft"}'), "1");
      assert.ok(Number(await eventually(() => query("weft_operations_verified_total"), 10_000, "a counter")) >= 0);

      // The shipped Grafana dashboard: every query is valid PromQL and names only metrics the peer exports.
      const exported = await (await fetch(`${url}/metrics`)).text();
      const dashboard = JSON.parse(
        await readFile(new URL("../../deploy/grafana/weft-peer.json", import.meta.url), "utf8"),
      );
      const exprs: string[] = dashboard.panels.flatMap((p: { targets: Array<{ expr: string }> }) =>
        p.targets.map((t) => t.expr)
      );
      assert.ok(exprs.length >= 10);
      for (const expr of exprs) {
        const q = expr.replaceAll("$instance", ".*").replaceAll("$__rate_interval", "1m").replaceAll("$__range", "5m");
        const r = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(q)}`);
        assert.equal(((await r.json()) as { status: string }).status, "success", expr);
        for (const name of expr.match(/weft_[a-z_]+/g) ?? []) {
          assert.ok(exported.includes(`# TYPE ${name} `), `${name} (in the dashboard) is not exported`);
        }
      }
    } finally {
      prometheus?.kill("SIGTERM");
    }
  });
});
