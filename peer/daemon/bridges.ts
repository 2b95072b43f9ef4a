/**
 * Running the bridges `weft.toml` names: each gets its own Ed25519 key (a
 * 0600 file `keys/bridge-<name>.json` in the data dir, never replicated), a
 * private directory for its own state (`bridges/<name>/`, 0700), its
 * context on this node (its spaces, acting as its DID, their events) and
 * nothing of the node's key. Its DID is logged at start with the command a
 * member runs to grant it what it needs; until then it holds nothing.
 */
import type { EditorLookup } from "../api/editor-sessions.ts";
import type { VirtualNodes } from "../../bridges/kubernetes/bridge.ts";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import {
  type Bridge,
  type BridgeContext,
  type BridgeJobsHost,
  type BridgeLlm,
  type BridgeRuns,
  hostBridge,
} from "#protocol/bridge";
import { loadOrCreate } from "#protocol/identity";
import type { WeftNode } from "#protocol/node";
import type { SeedKeystore } from "../keystore/file-keystore.ts";
import { nativeSigner } from "../crypto/native-signer.ts";
import type { BridgeSetting } from "./config.ts";
import type { Logger } from "./logger.ts";
import type { PeerLlm } from "../llm/start.ts";

/** A bridge as the daemon runs it. */
export interface RunningBridge {
  name: string;
  did: string;
  /** What the bridge was given (tests and the API read its spaces through it). */
  context: BridgeContext;
  /** Close the bridge and stop its events; safe to call more than once. */
  close(): Promise<void>;
  /** The editors of its runs, for a bridge that makes them (the kubernetes bridge). */
  editors?: EditorLookup;
  /** The virtual nodes it runs in a cluster, for a bridge that makes one (the kubernetes bridge). */
  virtualNodes?: VirtualNodes;
}

/** A bridge's editors, if it makes any (editor-origin.ts serves them). */
function editorsOf(bridge: Bridge): EditorLookup | undefined {
  return "editors" in bridge ? (bridge as { editors?: EditorLookup }).editors : undefined;
}

/** A bridge's virtual nodes, if it runs any (`weft kube node`, peer/api/kube-routes.ts). */
function virtualNodesOf(bridge: Bridge): VirtualNodes | undefined {
  return "virtualNodes" in bridge ? (bridge as { virtualNodes?: VirtualNodes }).virtualNodes : undefined;
}

/** The name of a bridge's key in the peer's keystore (`keys/bridge-<name>.json`). */
export const bridgeKeyName = (name: string) => `bridge-${name}`;

/** A bridge's private directory in the data dir (`bridges/<name>`). */
export const bridgeDir = (home: string, name: string) => join(home, "bridges", name);

/** The peer's router as a bridge uses it: each call charges the bridge's own budget, with the peer's metrics. */
export const bridgeLlm = (llm: PeerLlm): BridgeLlm => ({
  call: (request, budget, options) => llm.withBudget(budget).call(request, options),
});

/**
 * Start one configured bridge on `node` (with the peer's LLM router, if
 * `[llm]` configures one, its compute set-up, for a bridge that runs
 * jobs as itself, and where it keeps its spaces' repositories).
 */
export async function startBridge(
  setting: BridgeSetting,
  node: WeftNode,
  keystore: SeedKeystore,
  log: Logger,
  home: string,
  llm?: PeerLlm,
  jobs?: BridgeJobsHost,
  runs?: BridgeRuns,
  repositories?: (space: string, name: string) => Promise<string | undefined>,
): Promise<RunningBridge> {
  const keyName = bridgeKeyName(setting.name);
  const { created } = await loadOrCreate(keystore, keyName);
  const signer = nativeSigner((await keystore.loadSeed(keyName)) as Uint8Array);
  const dir = bridgeDir(home, setting.name);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const hosted = hostBridge({
    name: setting.name,
    node,
    signer,
    log,
    dir,
    ...(llm ? { llm: bridgeLlm(llm) } : {}),
    ...(jobs ? { jobs } : {}),
    ...(runs ? { runs } : {}),
    ...(repositories ? { repositories } : {}),
  });
  const bridge: Bridge = setting.kind.create(setting.config);
  try {
    await bridge.start(hosted.context);
  } catch (e) {
    hosted.detach();
    throw e;
  }
  const spaces = hosted.context.spaces().map((s) => s.id);
  log.info(created ? "bridge started with a new DID" : "bridge started", {
    bridge: setting.name,
    did: signer.did,
    spaces,
    needs: setting.kind.commands,
    grant: `weft cap delegate --space <space> --to ${signer.did} --command <one of needs>`,
  });
  let closing: Promise<void> | undefined;
  const editors = editorsOf(bridge);
  const virtualNodes = virtualNodesOf(bridge);
  return {
    name: setting.name,
    did: signer.did,
    context: hosted.context,
    ...(editors ? { editors } : {}),
    ...(virtualNodes ? { virtualNodes } : {}),
    close: () =>
      closing ??= (async () => {
        try {
          await bridge.close();
        } finally {
          hosted.detach();
          log.info("bridge closed", { bridge: setting.name });
        }
      })(),
  };
}
