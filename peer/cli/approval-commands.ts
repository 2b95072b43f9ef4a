/**
 * `weft agent approvals|approve|deny|gates`: the space's approval gates and
 * agents' requests. `approvals` shows each request's plan in full with its
 * sha-256 — exactly what `approve` signs, with this CLI's own key, bound to
 * that hash. `gates` (admins) says which steps of agents wait for a person.
 */
import { parseUsd } from "#protocol/agents";
import type { ApprovalRequest, Gates } from "#protocol/approvals";
import { InvalidInput } from "#protocol/schema";
import { need, seconds, str, Usage } from "./args.ts";
import { type Command, resolveSpace } from "./command.ts";
import { short, table } from "./output.ts";

const enc = encodeURIComponent;

function describe(r: ApprovalRequest): string {
  const scope = r.program
    ? `program ${r.program}`
    : r.refs
    ? `refs ${r.refs.join(", ")}`
    : `up to ${r.upToUsd} micro-USD`;
  const answer = r.answer
    ? `\n  ${r.status} by ${r.answer.by}${
      r.answer.expires ? ` until ${new Date(r.answer.expires).toISOString()}` : ""
    }${r.answer.reason ? `: ${r.answer.reason}` : ""}`
    : "";
  return `${r.id}  ${r.kind} (${scope})  by ${r.author}  ${r.status}${answer}\n  sha256 ${r.hash}\n\n${r.plan}\n`;
}

/** Approve or deny the request the first argument names, bound to the hash of the plan the peer shows for it. */
async function answer(
  args: string[],
  v: Parameters<Command["run"]>[1],
  io: Parameters<Command["run"]>[2],
  verb: "approve" | "deny",
  extra: Record<string, unknown>,
): Promise<{ id: string; r: ApprovalRequest; out: ApprovalRequest }> {
  const space = await resolveSpace(io, v);
  const client = await io.client();
  const id = need(args, 0, "request");
  const r = await client.get<ApprovalRequest>(`/v1/spaces/${enc(space)}/approvals/${enc(id)}`);
  const out = await client.approvalOp<typeof verb, ApprovalRequest>(space, verb, {
    request: id,
    hash: r.hash,
    ...extra,
  });
  return { id, r, out };
}

export const APPROVAL_COMMANDS: Record<string, Command> = {
  "agent approvals": {
    usage: "weft agent approvals [--all] [--space <s>]",
    summary: "Agents' requests waiting for a person (--all: answered ones too), each plan in full with its hash",
    options: { all: { type: "boolean" } },
    async run(_a, v, io) {
      const space = await resolveSpace(io, v);
      const r = await (await io.client()).get<{ gates: Gates | null; requests: ApprovalRequest[] }>(
        `/v1/spaces/${enc(space)}/approvals${v.all ? "" : "?status=pending"}`,
      );
      io.print(
        r,
        () =>
          r.requests.length === 0
            ? `no ${v.all ? "" : "pending "}requests${r.gates ? "" : " (no gates are set: weft agent gates)"}`
            : r.requests.map(describe).join("\n"),
      );
    },
  },
  "agent approve": {
    usage: "weft agent approve <request> [--expires 1h] [--space <s>]",
    summary: "Approve an agent's request, bound to its plan's hash (signed with your key)",
    options: { expires: { type: "string" } },
    async run(args, v, io) {
      const ttl = seconds(str(v, "expires") ?? "1h", "--expires");
      const { id, r, out } = await answer(args, v, io, "approve", { expires: Date.now() + ttl * 1000 });
      io.print(out, () => `approved ${id} (${short(out.answer?.op ?? "")}) for plan ${r.hash}`);
    },
  },
  "agent deny": {
    usage: "weft agent deny <request> [--reason text] [--space <s>]",
    summary: "Deny an agent's request, saying why",
    options: { reason: { type: "string" } },
    async run(args, v, io) {
      const reason = str(v, "reason");
      const { id, out } = await answer(args, v, io, "deny", reason ? { reason } : {});
      io.print(out, () => `denied ${id}`);
    },
  },
  "agent gates": {
    usage: "weft agent gates [--network] [--push 'refs/heads/main,refs/tags/*'] [--spend 1usd] [--space <s>]",
    summary: "Set which steps of agents need a person's approval (admins); with no flags, none",
    options: { network: { type: "boolean" }, push: { type: "string" }, spend: { type: "string" } },
    async run(_a, v, io) {
      const space = await resolveSpace(io, v);
      const push = (str(v, "push") ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "");
      let spendUsd: number | undefined;
      try {
        spendUsd = str(v, "spend") === undefined ? undefined : parseUsd(str(v, "spend")!);
      } catch (e) {
        throw e instanceof InvalidInput ? new Usage(`--spend: ${e.message}`) : e;
      }
      const gates = await (await io.client()).approvalOp<"gates", Gates>(space, "gates", {
        ...(v.network ? { network: true } : {}),
        ...(push.length ? { push } : {}),
        ...(spendUsd !== undefined ? { spendUsd } : {}),
      });
      io.print(
        gates,
        () =>
          table([{ network: gates.network, push: gates.push.join(", ") || "-", spend: gates.spendUsd ?? "-" }], [
            "network",
            "push",
            "spend",
          ]),
      );
    },
  },
};
