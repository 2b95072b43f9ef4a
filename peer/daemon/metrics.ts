/**
 * `/metrics` in the Prometheus text exposition format (version 0.0.4):
 * peers, documents, operations verified and refused, gossip, sync bytes,
 * runs — read from the node's diagnostics counters at scrape time.
 */
import type { WeftNode } from "#protocol/node";

/** One sample line: `name{k="v",…} value`, label values made safe for the format. */
export function sample(name: string, labels: Record<string, string>, value: number): string {
  const l = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, "_")}"`).join(",");
  return `${name}${l ? `{${l}}` : ""} ${Number.isFinite(value) ? value : 0}`;
}

export function line(
  name: string,
  help: string,
  type: "gauge" | "counter",
  samples: Array<[Record<string, string>, number]>,
): string {
  const out = [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`];
  for (const [labels, value] of samples) out.push(sample(name, labels, value));
  return out.join("\n");
}

export function renderMetrics(node: WeftNode, extra: Record<string, number> = {}): string {
  const c = node.diagnostics.counters();
  const sum = (prefix: string) =>
    Object.entries(c).filter(([k]) => k.startsWith(prefix)).reduce((a, [, v]) => a + v, 0);
  const byPrefix = (prefix: string, label: string) =>
    Object.entries(c).filter(([k]) => k.startsWith(prefix) && k.split(".").length === prefix.split(".").length)
      .map(([k, v]) => [{ [label]: k.slice(prefix.length) }, v] as [Record<string, string>, number]);
  const blocks = [
    line("weft_peers", "Connected libp2p peers.", "gauge", [[{}, node.libp2p?.getPeers().length ?? 0]]),
    line("weft_spaces", "Spaces this node is in.", "gauge", [[{}, node.spaces().length]]),
    line("weft_documents", "Documents loaded.", "gauge", [[{}, Object.keys(node.repo.handles).length]]),
    line("weft_tasks", "Tasks in all spaces.", "gauge", [[
      {},
      node.spaces().reduce((a, s) => a + s.log.reducer.tasks.size, 0),
    ]]),
    line("weft_operations_verified_total", "Operations whose signature and authority were verified.", "counter", [[
      {},
      c["ops.verified"] ?? 0,
    ]]),
    line("weft_operations_pending", "Operations waiting for a proof.", "gauge", [[
      {},
      node.spaces().reduce((a, s) => a + s.log.pendingCount, 0),
    ]]),
    line(
      "weft_refused_total",
      "Refused operations, sync and gossip messages.",
      "counter",
      byPrefix("refused.", "kind"),
    ),
    line(
      "weft_refused_by_code_total",
      "Refusals by reason.",
      "counter",
      Object.entries(c).filter(([k]) => k.split(".").length >= 3 && k.startsWith("refused."))
        .map(([k, v]) => [{ kind: k.split(".")[1], code: k.split(".").slice(2).join(".") }, v]),
    ),
    line(
      "weft_gossip_accepted_total",
      "Gossip messages accepted, by topic.",
      "counter",
      byPrefix("gossip.accepted.", "topic"),
    ),
    line(
      "weft_gossip_published_total",
      "Gossip messages published, by topic.",
      "counter",
      byPrefix("gossip.published.", "topic"),
    ),
    line("weft_sync_bytes_total", "Sync bytes, by direction.", "counter", [
      [{ direction: "in" }, c["sync.bytes.in"] ?? 0],
      [{ direction: "out" }, c["sync.bytes.out"] ?? 0],
    ]),
    line("weft_sync_withheld_total", "Messages not sent to peers not entitled to them.", "counter", [[
      {},
      sum("sync.withheld"),
    ]]),
    ...Object.entries(extra).map(([k, v]) => line(`weft_${k}`, k.replace(/_/g, " ") + ".", "gauge", [[{}, v]])),
  ];
  return blocks.join("\n") + "\n";
}
