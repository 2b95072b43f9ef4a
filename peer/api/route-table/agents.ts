/**
 * The agent routes (agent-routes.ts serves them): make, list, show, pause,
 * resume, run and revoke an agent this peer runs, and its budget's
 * reservations and receipts.
 */
import { Commands } from "#protocol/ucan";
import { bool, int, list, object, oneOf, optional, required, str } from "#protocol/schema";
import { q, type RouteDef } from "./def.ts";

/** Built as a function so its shared checks stay local to it. */
export function agentRoutes(): RouteDef[] {
  const base = "/v1/spaces/:space/agents";
  const amount = int(0, Number.MAX_SAFE_INTEGER);
  const cost = object({ usd: required(amount), tokens: required(amount), model: optional(str(1, 200)) });
  return [
    {
      method: "GET",
      path: base,
      summary: "The agents this peer runs in the space, and what each spent",
      auth: q(Commands.spaceRead),
    },
    {
      method: "POST",
      path: base,
      summary:
        "Make an agent on this peer: a key in a 0600 file and delegations, bounded by yours, to claim tasks with its labels, comment, push under refs/heads/agent/<name>/, propose patches, run its runner kinds and spend within its budget",
      auth: q(Commands.spaceAdmin),
      body: object({
        name: required(str(1, 32, /^[a-z0-9][a-z0-9-]{0,31}$/)),
        labels: required(list(str(1, 64, /^[^\s,]{1,64}$/), 32)),
        runners: optional(list(str(1, 32, /^[a-z0-9-]+$/), 16)),
        budget: required(object({ usd: optional(amount), tokens: optional(amount), dayUsd: optional(amount) })),
        expiration: optional(int(0, 2 ** 40)),
        /** Its loop starts with the daemon and picks tasks by itself. */
        run: optional(bool),
      }),
    },
    {
      method: "GET",
      path: `${base}/:name`,
      summary: "An agent: what it holds, its budget spent and left, its spend per task, paused or revoked",
      auth: q(Commands.spaceRead),
    },
    {
      method: "GET",
      path: `${base}/:name/transcript`,
      summary:
        "An agent's live transcript as NDJSON events (status, entry, gap, end), from this peer or, by its DID, from the member peer that runs it; follow=true streams each turn as it happens, from=N starts at entry N of the current pass",
      auth: q(Commands.spaceRead),
      query: object({ follow: optional(oneOf("true", "false")), from: optional(str(1, 9, /^[0-9]+$/)) }),
    },
    {
      method: "POST",
      path: `${base}/:name/pause`,
      summary: "Pause an agent: its calls and jobs stop here, and every node refuses its later operations",
      auth: q(Commands.agentPause),
      body: object({ reason: optional(str(0, 2000)) }),
    },
    { method: "POST", path: `${base}/:name/resume`, summary: "Resume a paused agent", auth: q(Commands.agentResume) },
    {
      method: "POST",
      path: `${base}/:name/run`,
      summary:
        "One pass of the agent's loop on this peer (its operator: node admins only): claim an eligible task, work on it with the model, run its tests in a container and propose a patch, or comment and release; answers how it ended",
      auth: q(Commands.nodeAdmin, "node"),
      body: object({ turns: optional(int(1, 200)), wallSeconds: optional(int(10, 3600)) }),
    },
    {
      method: "DELETE",
      path: `${base}/:name`,
      summary: "Revoke every delegation of an agent: for good, on every node",
      auth: q(Commands.spaceAdmin),
    },
    {
      method: "POST",
      path: `${base}/:name/reservations`,
      summary:
        "Reserve the most a model call of the agent may cost, for a task (its operator: node admins only); refused with budget/exhausted when a budget has no room",
      auth: q(Commands.nodeAdmin, "node"),
      body: object({
        task: required(str(8, 40, /^[a-z0-9]+$/)),
        usd: required(amount),
        tokens: required(amount),
        model: optional(str(1, 200)),
      }),
    },
    {
      method: "POST",
      path: `${base}/:name/reservations/:reservation/settle`,
      summary: "Settle a reservation with what the call cost (a signed receipt)",
      auth: q(Commands.nodeAdmin, "node"),
      body: cost,
    },
  ];
}
