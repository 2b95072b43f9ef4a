/**
 * A person's answer to an MCP client's authorization (`weft mcp grant
 * CODE`): the person's own credentials ask the peer to delegate each
 * command to the client's DID in the space — bounded by what the person
 * holds, like any `weft cap delegate` — and the chains are handed to the
 * waiting server as the answer. Or a refusal, which delegates nothing.
 */
import type { ApiClient } from "../../api/client.ts";
import { WeftError } from "#protocol";
import { type PendingRequest, readPending, writeAnswer } from "./pending.ts";

/** The name the delegations carry: the client's, made plain. */
const nameOf = (p: PendingRequest) => `mcp ${p.clientName.replace(/[^\w .-]/g, "").trim().slice(0, 48) || "client"}`;

async function waiting(dir: string, code: string): Promise<PendingRequest> {
  const p = await readPending(dir, code);
  if (!p) {
    throw new WeftError(
      "McpGrant",
      "not-found",
      `no authorization waits with code ${code} here (expired, answered, or another home's): start it again`,
    );
  }
  return p;
}

export async function grant(options: {
  dir: string;
  code: string;
  client: ApiClient;
  by: string;
  space: string;
  /** The commands to delegate; the ones the client asked for when not given. */
  commands?: string[];
  /** Seconds since the epoch. */
  expiration: number;
}): Promise<{ request: PendingRequest; commands: string[]; cids: string[] }> {
  const request = await waiting(options.dir, options.code);
  const commands = options.commands?.length ? options.commands : request.commands;
  const containers: string[] = [];
  const cids: string[] = [];
  for (const command of commands) {
    const r = await options.client.request<{ cid: string; container: string }>(
      "POST",
      `/v1/spaces/${encodeURIComponent(options.space)}/capabilities`,
      { audience: request.did, command, kind: "agent", name: nameOf(request), expiration: options.expiration },
    );
    containers.push(r.container);
    cids.push(r.cid);
  }
  await writeAnswer(options.dir, request.code, {
    granted: { space: options.space, commands, containers },
    by: options.by,
  });
  return { request, commands, cids };
}

export async function deny(dir: string, code: string, by: string, reason: string): Promise<PendingRequest> {
  const request = await waiting(dir, code);
  await writeAnswer(dir, request.code, { denied: reason, by });
  return request;
}
