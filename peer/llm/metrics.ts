/**
 * The router's Prometheus metrics, rendered after the node's on /metrics:
 * calls by outcome, tokens, cost in micro-USD and latency by provider and
 * model, and fallbacks by the failure that caused them. Failed attempts are
 * also logged (with the error's redacted message, never a key).
 */
import type { AttemptRecord, LlmFailure, RouterObserver, Target } from "#protocol/llm";
import { targetName } from "#protocol/llm";
import { line, sample } from "../daemon/metrics.ts";
import type { Logger } from "../daemon/logger.ts";

const BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

type Labels = Record<string, string>;

class Counter {
  private values = new Map<string, [Labels, number]>();
  add(labels: Labels, by: number): void {
    const key = JSON.stringify(labels);
    const entry = this.values.get(key) ?? [labels, 0];
    entry[1] += by;
    this.values.set(key, entry);
  }
  samples(): Array<[Labels, number]> {
    return [...this.values.values()];
  }
}

export class LlmMetrics implements RouterObserver {
  private calls = new Counter();
  private tokens = new Counter();
  private cost = new Counter();
  private fallbacks = new Counter();
  private latency = new Map<string, { labels: Labels; buckets: number[]; sum: number; count: number }>();
  private readonly log?: Logger;

  constructor(log?: Logger) {
    this.log = log;
  }

  attempt(r: AttemptRecord): void {
    const labels = { provider: r.provider, model: r.model };
    this.calls.add({ ...labels, outcome: r.outcome }, 1);
    this.tokens.add({ ...labels, direction: "input" }, r.usage.inputTokens);
    this.tokens.add({ ...labels, direction: "output" }, r.usage.outputTokens);
    this.cost.add(labels, r.costMicroUsd);
    const key = JSON.stringify(labels);
    const h = this.latency.get(key) ?? { labels, buckets: BUCKETS.map(() => 0), sum: 0, count: 0 };
    const seconds = r.latencyMs / 1000;
    BUCKETS.forEach((le, i) => seconds <= le && h.buckets[i]++);
    h.sum += seconds;
    h.count++;
    this.latency.set(key, h);
    if (r.outcome !== "ok" && r.outcome !== "cut") {
      this.log?.warn("model call failed", { provider: r.provider, model: r.model, outcome: r.outcome });
    }
  }

  fallback(from: Target, to: Target, failure: LlmFailure): void {
    this.fallbacks.add({ from: targetName(from), to: targetName(to), reason: failure }, 1);
    this.log?.info("model call falls back", { from: targetName(from), to: targetName(to), reason: failure });
  }

  /** The metrics in the Prometheus text format, ending with a newline. */
  render(): string {
    const histogram = [
      "# HELP weft_llm_call_seconds Model call latency, by provider and model.",
      "# TYPE weft_llm_call_seconds histogram",
    ];
    for (const h of this.latency.values()) {
      BUCKETS.forEach((le, i) =>
        histogram.push(sample("weft_llm_call_seconds_bucket", { ...h.labels, le: `${le}` }, h.buckets[i]))
      );
      histogram.push(sample("weft_llm_call_seconds_bucket", { ...h.labels, le: "+Inf" }, h.count));
      histogram.push(sample("weft_llm_call_seconds_sum", h.labels, h.sum));
      histogram.push(sample("weft_llm_call_seconds_count", h.labels, h.count));
    }
    return [
      line(
        "weft_llm_calls_total",
        "Model call attempts, by provider, model and outcome.",
        "counter",
        this.calls.samples(),
      ),
      line("weft_llm_tokens_total", "Tokens of model calls, by direction.", "counter", this.tokens.samples()),
      line("weft_llm_cost_micro_usd_total", "Cost of model calls in micro-USD.", "counter", this.cost.samples()),
      line(
        "weft_llm_fallbacks_total",
        "Calls moved to the next target, by failure.",
        "counter",
        this.fallbacks.samples(),
      ),
      histogram.join("\n"),
    ].join("\n") + "\n";
  }
}
