/**
 * Reproducibility across nodes: the same run spec built on several nodes,
 * judged from their signed manifests alone, so any node (or anyone holding
 * the manifests) computes the same verdict. What is compared is what each
 * runner signed: an output's NAR hash where the backend recorded one (a Nix
 * store path), and every output file's sha-256.
 */
import type { Manifest } from "./manifest.ts";

export interface ReproduceVerdict {
  /** Every run succeeded on a distinct node, and every compared hash is the same on all. */
  match: boolean;
  /** The nodes (runner DIDs) compared, in the order given. */
  nodes: string[];
  /** What differed: `nix-output:<name>` for a NAR hash, an output's path for a file, or why nothing compares. */
  differing: string[];
}

/** What one run's manifest says was built: compared key → hash. */
function builtHashes(m: Manifest): Map<string, string> {
  const hashes = new Map<string, string>();
  for (const material of m.build?.materials ?? []) {
    const nar = material.digest?.["nar-sha256"];
    if (nar !== undefined) hashes.set(material.name, nar);
  }
  for (const o of m.outputs) hashes.set(o.path, o.sha256);
  return hashes;
}

/** Compares the (verified) manifests of one spec's runs on different nodes. */
export function compareRuns(manifests: readonly Manifest[]): ReproduceVerdict {
  const nodes = manifests.map((m) => m.runner.did);
  const differing = new Set<string>();
  if (manifests.length < 2) differing.add("fewer than two runs to compare");
  if (new Set(nodes).size !== nodes.length) differing.add("two runs came from the same node");
  if (new Set(manifests.map((m) => m.spec)).size > 1) differing.add("the runs are of different specs");
  for (const m of manifests) if (m.status !== "succeeded") differing.add(`the run on ${m.runner.did} ${m.status}`);
  const all = manifests.map(builtHashes);
  const keys = new Set(all.flatMap((h) => [...h.keys()]));
  for (const key of [...keys].sort()) {
    if (new Set(all.map((h) => h.get(key))).size > 1) differing.add(key);
  }
  return { match: differing.size === 0, nodes, differing: [...differing] };
}
