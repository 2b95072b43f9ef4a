/**
 * `weft space create|list|invite|join|members|revoke`: spaces, their
 * members and the invites that bring new ones in.
 */
import { enc, list, need, plainNameArg, seconds, str } from "./args.ts";
import { type Command, resolveSpace } from "./command.ts";
import { short, table } from "./output.ts";
import { REVOKE_COMMAND } from "./revoke-command.ts";

interface StandingView {
  state: string;
  by?: string;
  at?: number;
}

/** A standing in a space, said plainly: a removed member must not read "synced". */
function standingText(st: StandingView | undefined): string {
  if (!st || st.state === "member") return "member";
  const when = st.at !== undefined ? ` at ${new Date(st.at).toISOString()}` : "";
  if (st.state === "revoked") return `revoked by ${st.by}${when}: no longer syncs this space`;
  if (st.state === "expired") return `expired${when}: needs a new invite`;
  return "not a member";
}

export const SPACE_COMMANDS: Record<string, Command> = {
  "space create": {
    usage: "weft space create <name> [--grace 15m]",
    summary:
      "Create a space (--grace: how long work signed just before its signer's authority ended may wait to be seen)",
    options: { grace: { type: "string" } },
    async run(a, v, io) {
      const grace = str(v, "grace");
      const s = await (await io.client()).request<{ id: string; name: string }>("POST", "/v1/spaces", {
        name: plainNameArg(need(a, 0, "name"), "<name>", 200),
        ...(grace ? { graceSeconds: seconds(grace, "--grace") } : {}),
      });
      io.print(s, () => `created ${s.name} (${s.id})`);
    },
  },
  "space list": {
    usage: "weft space list",
    summary: "Spaces this peer is in",
    async run(_a, _v, io) {
      const r = await (await io.client()).get<{ spaces: Array<Record<string, unknown>> }>("/v1/spaces");
      io.print(
        r,
        () =>
          table(
            r.spaces.map((s) => ({ ...s, standing: standingText(s.standing as StandingView | undefined) })),
            ["name", "id", "tasks", "members", "standing"],
          ),
      );
    },
  },
  "space invite": {
    usage: "weft space invite [--to <did>] [--command /weft] [--expires 7d] [--name <n>] [--peer <addr>]...",
    summary: "Make an invite: for a DID, or (without --to) a link anyone holding it can use",
    options: {
      to: { type: "string" },
      command: { type: "string" },
      expires: { type: "string" },
      name: { type: "string" },
      peer: { type: "string", multiple: true },
    },
    async run(_a, v, io) {
      const space = await resolveSpace(io, v);
      const expires = str(v, "expires");
      const r = await (await io.client()).request<{ invite: string }>("POST", `/v1/spaces/${enc(space)}/invites`, {
        ...(str(v, "to") ? { audience: str(v, "to") } : {}),
        ...(str(v, "command") ? { command: str(v, "command") } : {}),
        ...(expires ? { expiration: Math.floor(Date.now() / 1000) + seconds(expires, "--expires") } : {}),
        ...(str(v, "name") ? { name: plainNameArg(str(v, "name")!, "--name", 64) } : {}),
        ...(list(v, "peer").length ? { peers: list(v, "peer") } : {}),
      });
      io.print(r, () => r.invite);
    },
  },
  "space join": {
    usage: "weft space join <invite> [--peer <addr>]...",
    summary: "Join a space with an invite",
    options: { peer: { type: "string", multiple: true } },
    async run(a, v, io) {
      const invite = need(a, 0, "invite");
      const { decodeInvite } = await import("#protocol/space"); // the whole space area: only this command pays for it
      const peers = [...list(v, "peer"), ...(decodeInvite(invite).peers ?? [])];
      const s = await (await io.client()).request<{ id: string; name: string }>("POST", "/v1/spaces/join", {
        invite,
        peers,
      });
      io.print(s, () => `joined ${s.name} (${s.id})`);
    },
  },
  "space members": {
    usage: "weft space members [--space <s>]",
    summary: "Members, devices and agents, with what they hold",
    async run(_a, v, io) {
      const space = await resolveSpace(io, v);
      const r = await (await io.client()).get<{
        members: Array<Record<string, unknown>>;
        removed: Array<StandingView & { did: string; name?: string }>;
      }>(`/v1/spaces/${enc(space)}/members`);
      io.print(
        r,
        () =>
          [
            table(r.members.map((m) => ({ ...m, by: short(m.by as string) })), [
              "name",
              "kind",
              "did",
              "commands",
              "by",
            ]),
            ...(r.removed.length > 0 ? ["", "removed:"] : []),
            ...r.removed.map((m) => `  ${m.name ?? "-"}  ${m.did}  ${standingText(m)}`),
          ].join("\n"),
      );
    },
  },
  "space revoke": REVOKE_COMMAND,
};
