/**
 * The manifest of a run on this tab: the outputs and the run's log (kept in
 * this browser's IndexedDB and served to peers by CID, so their only location is this
 * node), signed here like a peer signs its runs (protocol/artifacts), checked
 * against the space's validator before it is kept, and its CID returned for
 * the task's result. Loaded with the runner, only when the tab offers capacity.
 */
import {
  buildManifest,
  encodeRunLog,
  type ManifestOutput,
  mediaTypeOf,
  RUN_LOG_MEDIA_TYPE,
  runCommand,
  type RunLogFile,
  sha256OfCid,
  verifyManifest,
} from "#protocol/artifacts";
import { WeftError } from "#protocol";
import type { WeftNode } from "#protocol/node";
import type { RunResult } from "#protocol/runner";
import type { LocalRun } from "#protocol/scheduler";
import type { WeftDb } from "./db.ts";
import { idbContentStore } from "./blob-store.ts";

/** Sign a run's manifest (outputs stay in this browser, served by CID) and keep it; its CID goes in the result. */
export async function publishRun(node: WeftNode, db: WeftDb, run: LocalRun, result: RunResult): Promise<string> {
  const space = node.space(run.space);
  if (!space) throw new WeftError("NotFound", "space/unknown", `this node no longer holds ${run.space}`);
  const command = runCommand(run.spec.runner);
  const chains = space.authority.chainsFor(node.did, command, Math.floor(result.startedAt / 1000));
  if (chains.length === 0) {
    throw new WeftError("Forbidden", "cap/missing", `this node holds no delegation for ${command} in ${space.id}`);
  }
  const outputs: ManifestOutput[] = result.outputs.map((o) => ({
    ...o,
    mediaType: mediaTypeOf(o.path),
    locations: [{ store: "local", node: node.did }],
  }));
  const logBytes = encodeRunLog(run.log.lines(), run.log.dropped);
  const logCid = await idbContentStore(db).put(logBytes);
  const log: RunLogFile = {
    size: logBytes.length,
    sha256: sha256OfCid(logCid),
    cid: logCid,
    mediaType: RUN_LOG_MEDIA_TYPE,
    locations: [{ store: "local", node: node.did }],
  };
  let last: unknown;
  for (const chain of chains) {
    const built = await buildManifest(node.signer, chain, {
      space: space.id,
      task: run.task,
      spec: run.spec,
      result,
      outputs,
      log,
    });
    try {
      await verifyManifest(built.cid, built.bytes, { validator: space.authority.validator });
    } catch (e) {
      last = e; // this chain's policies refuse the run; try the next
      continue;
    }
    await db.put("manifests", { bytes: built.bytes, space: space.id, task: run.task }, built.cid);
    return built.cid;
  }
  throw last;
}
