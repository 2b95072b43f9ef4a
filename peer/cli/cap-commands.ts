/**
 * `weft cap delegate|revoke|list|inspect`: capabilities (UCAN delegations)
 * in a space; `inspect` decodes a token, container or invite offline.
 */
import { fromBase64Url, WeftError } from "#protocol";
import { decodeContainer, decodeEnvelope } from "#protocol/ucan";
import { enc, need, plainNameArg, seconds, str, Usage } from "./args.ts";
import { type Command, resolveSpace } from "./command.ts";
import { short, table } from "./output.ts";
import { REVOKE_COMMAND } from "./revoke-command.ts";

export const CAP_COMMANDS: Record<string, Command> = {
  "cap delegate": {
    usage:
      "weft cap delegate --to <did> --command <cmd> [--expires 30d] [--policy '<json>'] [--name n] [--kind member|device|agent] [--powerline]",
    summary: "Delegate a capability from this peer (attenuated by command, policy, expiry)",
    options: {
      to: { type: "string" },
      command: { type: "string" },
      expires: { type: "string" },
      policy: { type: "string" },
      name: { type: "string" },
      kind: { type: "string" },
      powerline: { type: "boolean" },
    },
    async run(_a, v, io) {
      if (!str(v, "to") || !str(v, "command")) throw new Usage("--to and --command are required");
      let policy: unknown;
      if (str(v, "policy")) {
        try {
          policy = JSON.parse(str(v, "policy")!);
        } catch {
          throw new Usage('--policy is JSON, e.g. \'[["like", ".title", "docs*"]]\'');
        }
      }
      // A powerline is node-wide (every space this peer is in), so it has its own node-admin route.
      const path = v.powerline ? "/v1/capabilities" : `/v1/spaces/${enc(await resolveSpace(io, v))}/capabilities`;
      const r = await (await io.client()).request<{ cid: string; container: string }>(
        "POST",
        path,
        {
          audience: str(v, "to"),
          command: str(v, "command"),
          ...(policy ? { policy } : {}),
          ...(str(v, "expires")
            ? { expiration: Math.floor(Date.now() / 1000) + seconds(str(v, "expires")!, "--expires") }
            : {}),
          ...(str(v, "name") ? { name: plainNameArg(str(v, "name")!, "--name", 64) } : {}),
          ...(str(v, "kind") ? { kind: str(v, "kind") } : {}),
        },
      );
      io.print(r, () => `delegated ${r.cid}\nchain (give this to the delegate): ${r.container}`);
    },
  },
  "cap revoke": { ...REVOKE_COMMAND, usage: REVOKE_COMMAND.usage.replace("space revoke", "cap revoke") },
  "cap list": {
    usage: "weft cap list",
    summary: "Delegations in the space",
    async run(_a, v, io) {
      const space = await resolveSpace(io, v);
      const r = await (await io.client()).get<{ capabilities: Array<Record<string, unknown>> }>(
        `/v1/spaces/${enc(space)}/capabilities`,
      );
      io.print(
        r,
        () =>
          table(
            r.capabilities.map((c) => ({
              ...c,
              iss: short(c.iss as string),
              aud: short(c.aud as string),
              name: (c.meta as { name?: string }).name,
            })),
            ["cid", "iss", "aud", "cmd", "name", "exp", "revoked"],
          ),
      );
    },
  },
  "cap powerlines": {
    usage: "weft cap powerlines",
    summary: "Powerlines this peer issued (weft cap delegate --powerline), and whether each is revoked",
    async run(_a, _v, io) {
      const r = await (await io.client()).get<{ powerlines: Array<Record<string, unknown>> }>("/v1/capabilities");
      io.print(
        r,
        () =>
          table(r.powerlines.map((p) => ({ ...p, aud: short(p.aud as string) })), [
            "cid",
            "aud",
            "cmd",
            "name",
            "exp",
            "revoked",
          ]),
      );
    },
  },
  "cap unpower": {
    usage: "weft cap unpower <cid>",
    summary: "Revoke a powerline this peer issued: here at once, and in every space it is in",
    async run(a, _v, io) {
      const cid = need(a, 0, "cid");
      const r = await (await io.client()).request<{ revoked: string; spaces: number }>(
        "DELETE",
        `/v1/capabilities/${enc(cid)}`,
      );
      io.print(
        r,
        () => `revoked ${r.revoked} on this peer and in ${r.spaces} space(s); members refuse it once they hear`,
      );
    },
  },
  "cap inspect": {
    usage: "weft cap inspect <container | base64 token | invite>",
    summary: "Decode a token, container or invite and show what it grants (offline)",
    async run(a, _v, io) {
      const text = need(a, 0, "token");
      let decoded;
      try {
        const tokens = text.startsWith("weft-invite:")
          ? (await import("#protocol/space")).decodeInvite(text).tokens
          : await decodeContainer(text).catch(() => [fromBase64Url(text)]);
        decoded = tokens.map((t) => {
          const env = decodeEnvelope(t);
          return { cid: env.cid.toString(), type: env.tag, ...env.payload };
        });
      } catch (e) {
        // What the user gave does not decode: bad input (exit 2), not a refused credential.
        if (e instanceof WeftError) throw new Usage(`not a token, container or invite: ${e.message}`);
        throw e;
      }
      io.print(
        decoded,
        () =>
          JSON.stringify(
            decoded,
            (_k, x) => (x instanceof Uint8Array ? `<${x.length} bytes>` : x?.asCID ? x.toString() : x),
            2,
          ),
      );
    },
  },
};
