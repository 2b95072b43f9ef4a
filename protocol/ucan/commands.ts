/**
 * The Weft command vocabulary. Every mutation of shared state is a UCAN
 * invocation of one of these commands, on a space (the invocation's `sub`).
 * Delegating a prefix delegates everything below it: `/weft/task` covers
 * every task command, `/weft` everything in the space.
 */
export const Commands = {
  /** Everything in a space. */
  all: "/weft",

  /** Receive and send the space's documents (prove membership at connect). */
  spaceSync: "/weft/space/sync",
  /** Read the space's tasks, members and diagnostics through a peer's API. */
  spaceRead: "/weft/space/read",
  /** Invite and revoke members, rename the space. */
  spaceAdmin: "/weft/space/admin",

  /** All task commands. */
  task: "/weft/task",
  taskCreate: "/weft/task/create",
  /** Edit title/body/requirements, labels, dependencies (covers the three below). */
  taskUpdate: "/weft/task/update",
  taskEdit: "/weft/task/update/edit",
  taskLabel: "/weft/task/update/label",
  taskDependency: "/weft/task/update/dependency",
  taskComment: "/weft/task/comment",
  /** Take a lease on a task; covers renew, release, start and result below. */
  taskClaim: "/weft/task/claim",
  taskRenew: "/weft/task/claim/renew",
  taskRelease: "/weft/task/claim/release",
  taskStart: "/weft/task/claim/start",
  taskResult: "/weft/task/claim/result",
  /** Record having seen other authors' operations (anchors them in time; changes no task). */
  taskWitness: "/weft/task/claim/witness",
  /** Approve or reject a task in review. */
  taskReview: "/weft/task/review",
  /** Mark a task done or failed by hand. */
  taskClose: "/weft/task/close",
  taskCancel: "/weft/task/cancel",
  /** Spend money and tokens on a task (model calls): covers reserve and settle, bounded by a budget (budget.ts). */
  taskSpend: "/weft/task/spend",
  /** Reserve the most a model call may cost, before it starts. */
  taskReserve: "/weft/task/spend/reserve",
  /** Record what a reserved call cost (its signed receipt). */
  taskSettle: "/weft/task/spend/settle",

  /** Pause and resume agents (covers both below). */
  agent: "/weft/agent",
  /** Stop an agent: every node refuses its operations from then on, until it is resumed. */
  agentPause: "/weft/agent/pause",
  agentResume: "/weft/agent/resume",
  /** An agent asks a person to approve a plan (a step the space's gates hold back). */
  approvalRequest: "/weft/agent/request",
  /** Approve an agent's request, bound to its plan's hash; covers denying one (below). */
  approvalApprove: "/weft/agent/approve",
  approvalDeny: "/weft/agent/approve/deny",
  /** Set the space's approval gates: which steps of an agent need a person's approval (admins). */
  approvalGates: "/weft/space/admin/approvals",

  /** All runner kinds. */
  run: "/weft/run",
  runWasm: "/weft/run/wasm",
  runNix: "/weft/run/nix",
  runContainer: "/weft/run/container",
  runKubernetes: "/weft/run/kubernetes",

  /** Advertise capacity on the space's gossip topic. */
  capacityAdvertise: "/weft/capacity/advertise",

  artifactPut: "/weft/artifact/put",
  artifactGet: "/weft/artifact/get",

  /** All repository commands. */
  repo: "/weft/repo",
  /** Create a repository in the space (its name, default branch and maintainers). */
  repoCreate: "/weft/repo/create",
  /** Move refs of a repository; a policy on `args.updates` limits which (see protocol/repo/ref-policy.ts). */
  repoPush: "/weft/repo/push",

  /** All patch commands. */
  patch: "/weft/patch",
  /** Open a patch; covers revising one's own patches (below). Agents hold this, not merge. */
  patchPropose: "/weft/patch/propose",
  /** A new revision (head commit) of a patch its author opened. */
  patchRevise: "/weft/patch/propose/revise",
  /** Comment on a revision (anchored to a file and line), approve it, or request changes. */
  patchReview: "/weft/patch/review",
  /** Merge a patch whose required checks passed: names the resulting commit and the target ref. */
  patchMerge: "/weft/patch/merge",
  /** Close a patch without merging it; covers reopening (below). */
  patchClose: "/weft/patch/close",
  patchReopen: "/weft/patch/close/reopen",
  /** Say which checks a repository's patches need before they may merge (the space's merge policy). */
  patchPolicy: "/weft/patch/policy",

  /**
   * Ask a peer for the invites addressed to oneself, invoked on one's own DID
   * (issuer = subject, no proofs): a browser collects what `weft space invite --to` made for it.
   */
  inviteRead: "/weft/invite/read",

  /** A node's own API, invoked on the node's DID: read its state (peers, capacity, spaces). */
  nodeRead: "/weft/node/read",
  /** Create and join spaces, mint tokens: the node's operator. */
  nodeAdmin: "/weft/node/admin",
} as const;

export type Command = (typeof Commands)[keyof typeof Commands];
