/**
 * `weft bridge list|grant`: the bridges this peer's weft.toml names, with
 * the DID each acts as, and granting one what it needs in a space (a
 * delegation from this peer to the bridge's DID, recorded in the space, so
 * every node checks the bridge's operations against it). They read the
 * config and the bridges' key files in the data dir: run them on the
 * bridge's own peer. To attenuate further (a policy), use `weft cap delegate`.
 */
import process from "node:process";
import { join } from "node:path";
import { WeftError } from "#protocol";
import { fileKeystore } from "../keystore/file-keystore.ts";
import { type BridgeSetting, loadConfig } from "../daemon/config.ts";
import { bridgeKeyName } from "../daemon/bridges.ts";
import { enc, list, need, seconds, str, Usage } from "./args.ts";
import { type Command, type Io, resolveSpace } from "./command.ts";
import { table } from "./output.ts";

export async function configured(io: Io): Promise<BridgeSetting[]> {
  return (await loadConfig({ ...process.env, WEFT_HOME: io.home })).bridges;
}

/** The bridge's DID, once the peer has run it (it makes its key on first start). */
export async function didOf(io: Io, name: string): Promise<string | undefined> {
  return (await fileKeystore({ dir: join(io.home, "keys") }).load(bridgeKeyName(name)))?.did;
}

export const BRIDGE_COMMANDS: Record<string, Command> = {
  "bridge list": {
    usage: "weft bridge list",
    summary: "The bridges this peer runs: name, the DID each acts as, the commands it needs",
    async run(_a, _v, io) {
      const rows = await Promise.all(
        (await configured(io)).map(async (b) => ({
          name: b.name,
          did: (await didOf(io, b.name)) ?? null,
          needs: b.kind.commands,
          summary: b.kind.summary,
        })),
      );
      io.print(
        { bridges: rows },
        () =>
          rows.length === 0 ? "no bridges: name one in weft.toml ([bridges.<name>], see bridges/README.md)" : table(
            rows.map((r) => ({ ...r, did: r.did ?? "(starts with the peer)", needs: r.needs.join(" ") })),
            ["name", "did", "needs"],
          ),
      );
    },
  },
  "bridge grant": {
    usage: "weft bridge grant <name> [--command <cmd>]... [--expires 30d] [--space <s>]",
    summary: "Delegate to a bridge on this peer what it needs in a space (by default every command it lists)",
    options: { command: { type: "string", multiple: true }, expires: { type: "string" } },
    async run(args, v, io) {
      const name = need(args, 0, "bridge name");
      const bridges = await configured(io);
      const bridge = bridges.find((b) => b.name === name);
      if (!bridge) {
        throw new Usage(
          `this peer runs no bridge ${name} (weft.toml names: ${bridges.map((b) => b.name).join(", ") || "none"})`,
        );
      }
      const did = await didOf(io, name);
      if (!did) {
        throw new WeftError(
          "NotFound",
          "not-found",
          `the bridge ${name} has no key yet: start the peer once with [bridges.${name}] in weft.toml`,
        );
      }
      const { space, delegations } = await delegateToBridge(io, v, { did, name, defaults: bridge.kind.commands });
      io.print(
        { bridge: name, did, space, delegations },
        () =>
          `granted the bridge ${name} (${did}) in ${space}:\n` +
          delegations.map((d) => `  ${d.command}  ${d.cid}`).join("\n"),
      );
    },
  },
};

/** A delegation granted to a bridge: its command and CID. */
export interface BridgeGrant {
  command: string;
  cid: string;
}

/**
 * Delegate to a bridge's DID, in the space the options name, each `--command`
 * (or the bridge's own defaults), marked as an agent's (unless `kind` says
 * otherwise) and bounded by `--expires`; `extra` rides in every grant (a
 * Nostr pairing proof).
 */
export async function delegateToBridge(
  io: Io,
  v: Parameters<Command["run"]>[1],
  o: {
    did: string;
    name: string;
    defaults: readonly string[];
    extra?: Record<string, string>;
    kind?: "agent" | "member";
  },
): Promise<{ space: string; delegations: BridgeGrant[] }> {
  const commands = list(v, "command").length > 0 ? list(v, "command") : [...o.defaults];
  const expires = str(v, "expires");
  const space = await resolveSpace(io, v);
  const client = await io.client();
  const delegations: BridgeGrant[] = [];
  for (const command of commands) {
    const r = await client.request<{ cid: string }>("POST", `/v1/spaces/${enc(space)}/capabilities`, {
      audience: o.did,
      command,
      kind: o.kind ?? "agent",
      name: `bridge ${o.name}`,
      ...o.extra,
      ...(expires ? { expiration: Math.floor(Date.now() / 1000) + seconds(expires, "--expires") } : {}),
    });
    delegations.push({ command, cid: r.cid });
  }
  return { space, delegations };
}
