/**
 * The handlers of the agent routes (routes.ts, agentRoutes): make an agent
 * on this peer from the caller's own authority, list and show agents with
 * what they spent, pause, resume and revoke them, and reserve and settle
 * model calls for them (the operator's API for an agent runtime outside
 * the daemon), and run one pass of an agent's loop here (`…/run`; its
 * progress is the `loop` field of the agent). The node signs an agent's delegations on its own chain,
 * bounded by the caller's (grant.ts), as it does every delegation it makes
 * for a caller; pauses it signs likewise, for a caller holding
 * /weft/agent/pause.
 */
import { CID } from "multiformats/cid";
import { isWeftError, WeftError } from "#protocol";
import type { WeftNode } from "#protocol/node";
import type { Space } from "#protocol/space";
import { budgetOf, type Delegation } from "#protocol/ucan";
import type { Spend } from "#protocol/tasks";
import { type AgentGrantOptions, agentGrants, agentHoldings, budgetLeft, tasksSpentOnBy } from "#protocol/agents";
import type { AgentRecord, PeerAgents } from "../agents/peer-agents.ts";
import type { AgentLoops } from "../agents/loop/agent-loop.ts";
import type { AgentAutoRun } from "../agents/loop/auto-run.ts";
import { transcriptEvents } from "../agents/loop/transcript-events.ts";
import { openTranscriptAnywhere } from "../agents/transcript-follow.ts";
import type { Handler } from "./dispatch.ts";
import { HttpError } from "./errors.ts";
import { ndjsonResponse } from "./ndjson.ts";
import { boundGrant } from "./grant.ts";

const base = "/v1/spaces/:space/agents";

/** The caller of a query route: the audience of its chain's last link, or the subject itself. */
const callerOf = (space: Space, chain: readonly Delegation[]) => chain[chain.length - 1]?.aud ?? space.id;

/** An agent as the API shows it: what it holds, spent and has left, per task, and whether it may act. */
function agentView(space: Space, r: AgentRecord) {
  const spend = space.log.reducer.spend;
  const mine = spend.agent(r.did);
  const pause = spend.paused(r.did);
  const revoked = r.delegations.filter((d) => isRevoked(space, d.cid));
  const tasks: Record<string, Spend> = {};
  for (const t of tasksSpentOnBy(space.log.reducer.tasks.values(), r.did)) tasks[t.id] = spend.agentTask(r.did, t.id);
  return {
    ...r,
    spent: mine.spent,
    reserved: mine.reserved,
    reservations: mine.reservations,
    refused: mine.refused,
    left: budgetLeft(r.budget, mine),
    tasks,
    state: revoked.length > 0 ? "revoked" : pause ? "paused" : "active",
    ...(pause ? { pause } : {}),
  };
}

/** Is the delegation `cid` (a string) revoked in the space? */
const isRevoked = (space: Space, cid: string) => space.authority.isRevoked(CID.parse(cid));

/** An agent run elsewhere, known here by its DID only: what the space says of it. */
function remoteRecord(space: Space, did: string): AgentRecord {
  const held = [...space.authority.delegations].filter((d) => d.aud === did);
  const holds = agentHoldings(held);
  return {
    name: did,
    did,
    space: space.id,
    labels: holds.labels,
    runners: holds.runners,
    budget: holds.budget,
    expires: holds.expires,
    delegations: held.map((d) => ({ command: d.cmd, cid: d.cid.toString() })),
    by: held[0]?.iss ?? "",
    createdAt: 0,
  };
}

export function agentHandlers(
  node: WeftNode,
  agents: PeerAgents,
  loops?: AgentLoops,
  autoRun?: AgentAutoRun,
): Record<string, Handler> {
  /** What its loop on this peer is doing, and whether it runs by itself here. */
  const work = (name: string) => {
    const loop = loops?.status(name);
    const auto = autoRun?.state(name);
    return { ...(loop ? { loop } : {}), ...(auto ? { auto } : {}) };
  };
  const inSpace = async (spaceId: string, name: string) => {
    const r = await agents.require(name);
    if (r.space !== spaceId) throw new HttpError(404, "agent/unknown", `agent ${name} works in ${r.space}, not here`);
    return r;
  };
  /** An agent by its name on this peer, or by its DID wherever it runs. */
  const target = async (space: Space, nameOrDid: string): Promise<AgentRecord> => {
    if (nameOrDid.startsWith("did:key:")) {
      const mine = (await agents.list(space.id)).find((r) => r.did === nameOrDid);
      return mine ?? remoteRecord(space, nameOrDid);
    }
    return await inSpace(space.id, nameOrDid);
  };
  const spaceOf = (id: string): Space => {
    const s = node.space(id);
    if (!s) throw new HttpError(404, "not-found", `this node is not in space ${id}`);
    return s;
  };
  return {
    [`GET ${base}`]: async (c, { space }) =>
      c.json({ agents: (await agents.list(space!.id)).map((r) => ({ ...agentView(space!, r), ...work(r.name) })) }),

    [`POST ${base}`]: async (c, { space, body, chain }) => {
      const s = space!;
      const b = body as Omit<AgentGrantOptions, "runners"> & { runners?: string[]; expiration?: number; run?: boolean };
      if (b.run && !autoRun) throw new HttpError(503, "llm/no-route", "this peer runs no agent loops: configure [llm]");
      const options = { name: b.name, labels: b.labels, runners: b.runners ?? [], budget: b.budget };
      const grants = agentGrants(options); // checks the options before anything is made
      const bounded = grants.map((g) => ({
        ...g,
        ...boundGrant(chain!, { command: g.command, policy: g.policy, expiration: b.expiration ?? null }),
      }));
      const did = await agents.createKey(b.name);
      const delegations: AgentRecord["delegations"] = [];
      for (const g of bounded) {
        const { delegation } = await s.invite({
          audience: did,
          command: g.command,
          policy: g.policy,
          expiration: g.expiration,
          name: `agent ${b.name}`,
          kind: "agent",
        });
        delegations.push({ command: g.command, cid: delegation.cid.toString() });
      }
      await s.flush();
      const spendGrant = bounded.find((g) => g.command.endsWith("/spend"));
      const record: AgentRecord = {
        name: b.name,
        did,
        space: s.id,
        labels: [...b.labels],
        runners: [...options.runners],
        budget: budgetOf({ source: spendGrant?.policy ?? [], statements: [] }) ?? {},
        expires: bounded[0].expiration,
        delegations,
        by: callerOf(s, chain!),
        createdAt: Date.now(),
        ...(b.run ? { run: true } : {}),
      };
      await agents.save(record);
      if (record.run) autoRun?.add(record.name);
      return c.json(agentView(s, record), 201);
    },

    [`GET ${base}/:name`]: async (c, { space, params }) => {
      const r = await target(space!, params.name);
      return c.json({ ...agentView(space!, r), ...work(r.name) });
    },

    [`GET ${base}/:name/transcript`]: async (c, { space, params, query }) => {
      const s = space!;
      const options = {
        ...(query.from !== undefined ? { from: Number(query.from) } : {}),
        follow: query.follow === "true",
        signal: c.req.raw.signal,
      };
      const did = params.name.startsWith("did:key:") ? params.name : undefined;
      const here = did ? (await agents.list(s.id)).find((r) => r.did === did) : await inSpace(s.id, params.name);
      let events;
      if (here) {
        if (!loops) throw new HttpError(503, "llm/no-route", "this peer runs no agent loops: configure [llm]");
        events = transcriptEvents(loops, here.name, options);
      } else {
        if (![...s.authority.delegations].some((d) => d.aud === did && d.meta?.kind === "agent")) {
          throw new HttpError(404, "agent/unknown", `no agent ${did} in this space`);
        }
        events = await openTranscriptAnywhere(node, s, did!, options);
      }
      // A source that fails midway (the peer running it went away) says why in a last `end` line.
      return ndjsonResponse(events, (e) => ({
        type: "end",
        code: isWeftError(e) ? e.code : "transcript/unreachable",
        message: e.message,
      }));
    },

    [`POST ${base}/:name/run`]: async (c, { params, body }) => {
      const s = spaceOf(params.space);
      await inSpace(s.id, params.name);
      if (!loops) throw new HttpError(503, "llm/no-route", "this peer runs no agent loops");
      const b = body as { turns?: number; wallSeconds?: number };
      return c.json(
        await loops.runOnce(params.name, {
          ...loops.limits,
          ...(b.turns !== undefined ? { turns: b.turns } : {}),
          ...(b.wallSeconds !== undefined ? { wallMs: b.wallSeconds * 1000 } : {}),
        }),
      );
    },

    [`POST ${base}/:name/pause`]: async (c, { space, params, body }) => {
      const r = await target(space!, params.name);
      const { reason } = body as { reason?: string };
      await space!.agentOp("pause", { agent: r.did, ...(reason ? { reason } : {}) });
      agents.kill(space!, r.did).check();
      return c.json(agentView(space!, r));
    },

    [`POST ${base}/:name/resume`]: async (c, { space, params }) => {
      const r = await target(space!, params.name);
      await space!.agentOp("resume", { agent: r.did }).catch((e) => {
        throw e instanceof WeftError && e.code === "task/conflict"
          ? new HttpError(409, "task/conflict", `agent ${r.name} is not paused`)
          : e;
      });
      agents.kill(space!, r.did).check();
      return c.json(agentView(space!, r));
    },

    [`DELETE ${base}/:name`]: async (c, { space, params }) => {
      const r = await target(space!, params.name);
      // Every delegation to it in the space, whoever made it, not only those this peer recorded.
      for (const d of remoteRecord(space!, r.did).delegations) {
        if (!isRevoked(space!, d.cid)) await space!.revoke(d.cid);
      }
      agents.kill(space!, r.did).check();
      return c.json(agentView(space!, r));
    },

    [`POST ${base}/:name/reservations`]: async (c, { params, body }) => {
      const s = spaceOf(params.space);
      await inSpace(s.id, params.name);
      const b = body as { task: string; usd: number; tokens: number; model?: string };
      const spending = await agents.spending(s, params.name, b.task);
      const r = await spending.reserve({ usd: b.usd, tokens: b.tokens }, b.model ? { model: b.model } : {});
      return c.json({ id: r.id, max: r.max }, 201);
    },

    [`POST ${base}/:name/reservations/:reservation/settle`]: async (c, { params, body }) => {
      const s = spaceOf(params.space);
      await inSpace(s.id, params.name);
      const reservation = params.reservation;
      const op = s.log.op(reservation);
      if (!op || op.kind !== "reserve") throw new HttpError(404, "not-found", `no reservation ${reservation} here`);
      const b = body as { usd: number; tokens: number; model?: string };
      await (await agents.spending(s, params.name, op.args.task)).settle({ id: reservation }, b);
      return c.json({ settled: reservation });
    },
  };
}
