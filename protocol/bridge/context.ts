/**
 * Hosting a bridge on a node: its context (the spaces where its DID holds a
 * delegation, acting as that DID, the events of those spaces) built from the
 * node's spaces and the bridge's own signer. The node's key is never part of
 * it. Events follow membership: a grant arriving opens a space to the
 * bridge, a revocation or lapse closes it.
 */
import { WeftError } from "../errors.ts";
import type { Signer } from "../identity/ed25519.ts";
import type { Space } from "../space/space.ts";
import { PATCH_FAMILY, type PatchReducer } from "../patch/index.ts";
import { APPROVAL_FAMILY, type ApprovalReducer } from "../approvals/index.ts";
import { REPO_FAMILY, type RepoReducer } from "../repo/index.ts";
import { agentHoldings } from "../agents/holdings.ts";
import type { ManagedRunner } from "../runner/plugin.ts";
import type {
  BridgeContext,
  BridgeEvent,
  BridgeJobs,
  BridgeJobsOptions,
  BridgeLlm,
  BridgeLog,
  BridgeRuns,
  BridgeSpace,
} from "./bridge.ts";

/** How a host runs a bridge's jobs as the bridge (the daemon's compute set-up, signed by `as`). */
export type BridgeJobsHost = (as: Signer, runners: ManagedRunner[], options: BridgeJobsOptions) => BridgeJobs;

/** What a bridge's host needs from the node. */
export interface BridgeHostNode {
  spaces(): Space[];
  space(id: string): Space | undefined;
  /** Called with a space's id when it is added here or its members change. */
  readonly authority: { onChange(listener: (space: string) => void): () => void };
}

export interface HostedBridge {
  readonly context: BridgeContext;
  /** Stop delivering events (the bridge is closing). */
  detach(): void;
}

const seconds = (ms: number) => Math.floor(ms / 1000);

export function hostBridge(options: {
  name: string;
  node: BridgeHostNode;
  signer: Signer;
  log: BridgeLog;
  /** The bridge's private directory, on hosts with a disk. */
  dir?: string;
  /** The host's LLM router, if it has one. */
  llm?: BridgeLlm;
  /** The host runs jobs: a bridge may join the mesh as a node of its own. */
  jobs?: BridgeJobsHost;
  /** The host keeps bare copies of its spaces' repositories: where one is (BridgeContext.repository). */
  repositories?: (space: string, name: string) => Promise<string | undefined>;
  /** The host follows the mesh's runs: a bridge may place jobs and read their logs and manifests. */
  runs?: BridgeRuns;
  now?: () => number;
}): HostedBridge {
  const { name, node, signer, log, dir, llm, jobs, repositories, runs } = options;
  const now = options.now ?? Date.now;
  const did = signer.did;
  const listeners = new Set<(e: BridgeEvent) => void>();
  const emit = (e: BridgeEvent) => {
    for (const l of listeners) {
      try {
        l(e);
      } catch (err) {
        log.error("a bridge's event listener threw", { bridge: name, error: (err as Error).message });
      }
    }
  };
  const holdsAny = (space: Space) => space.members().some((m) => m.did === did);
  const view = (space: Space): BridgeSpace => ({
    id: space.id,
    get name() {
      return space.name;
    },
    tasks: (filter) => space.tasks(filter),
    task: (id) => space.task(id),
    holds: (command, onBehalf = {}) =>
      space.authority.chainsFor(did, command, seconds(now())).some((c) =>
        onBehalf.via === undefined || c[c.length - 1]?.iss === onBehalf.via
      ),
    act: (kind, args, onBehalf = {}) => space.actAs(signer, kind, args, onBehalf),
    agentOp: (kind, args, onBehalf = {}) => space.agentOp(kind, args, signer, onBehalf.via),
    patches: () => [...space.log.state<PatchReducer>(PATCH_FAMILY).patches.values()],
    repo: (repo) => space.log.state<RepoReducer>(REPO_FAMILY).repos.get(repo),
    approvals: () => [...space.log.state<ApprovalReducer>(APPROVAL_FAMILY).requests.values()],
    perform: async (command, args, onBehalf = {}) => {
      const { cid } = await space.perform(command, args, signer, onBehalf.via);
      const outcome = space.log.outcome(cid);
      if (outcome && !outcome.applied) throw new WeftError("OpRefused", "op/refused", outcome.reason);
      return cid;
    },
    members: () => space.members(),
    agentLabels: (agent) => {
      const at = seconds(now());
      return agentHoldings(
        [...space.authority.delegations].filter((d) =>
          d.aud === agent && !space.authority.isRevoked(d.cid) && (d.exp === null || d.exp >= at)
        ),
      ).labels;
    },
    grants: () => {
      const at = seconds(now());
      return [...space.authority.delegations]
        .filter((d) =>
          d.aud === did && !space.authority.isRevoked(d.cid) && (d.exp === null || d.exp >= at) &&
          (d.nbf === undefined || d.nbf <= at)
        )
        .map((d) => ({ cid: d.cid.toString(), iss: d.iss, cmd: d.cmd, meta: d.meta ?? {} }));
    },
  });

  /** Per space this node holds: whether the bridge is in it, and the unsubscribe from its events. */
  const watched = new Map<string, { member: boolean; off: () => void }>();
  const watch = (space: Space) => {
    if (watched.has(space.id)) return;
    const entry = { member: holdsAny(space), off: () => {} };
    entry.off = space.subscribe((e) => {
      if (e.type === "members") recheck(space.id);
      if (entry.member) emit({ ...e, space: space.id });
    });
    watched.set(space.id, entry);
    if (entry.member) emit({ type: "access", space: space.id, holds: true });
  };
  const recheck = (id: string) => {
    const space = node.space(id);
    if (!space) return;
    const entry = watched.get(id);
    if (!entry) return watch(space);
    const member = holdsAny(space);
    if (member === entry.member) return;
    entry.member = member;
    emit({ type: "access", space: id, holds: member });
  };
  const offAuthority = node.authority.onChange(recheck);
  for (const space of node.spaces()) watch(space);

  const context: BridgeContext = {
    name,
    did,
    spaces: () => node.spaces().filter(holdsAny).map(view),
    space: (id) => {
      const space = node.space(id);
      return space && holdsAny(space) ? view(space) : undefined;
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    sign: (message) => signer.sign(message),
    ...(dir === undefined ? {} : { dir }),
    ...(llm === undefined ? {} : { llm }),
    ...(jobs === undefined ? {} : { runJobs: (runners, o) => jobs(signer, runners, o) }),
    ...(repositories === undefined ? {} : {
      repository: (id: string, repo: string) => {
        const space = node.space(id);
        return space && holdsAny(space) ? repositories(id, repo) : Promise.resolve(undefined);
      },
    }),
    ...(runs === undefined ? {} : { runs }),
    log,
  };
  return {
    context,
    detach() {
      offAuthority();
      for (const e of watched.values()) e.off();
      watched.clear();
      listeners.clear();
    },
  };
}
