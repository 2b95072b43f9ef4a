/**
 * `weft nostr address|pair`: where people DM this peer's Nostr bridge (its
 * npub and inbox relays), and confirming a pairing code a person got by DM,
 * with this peer's own key: a delegation from this peer to the bridge, for
 * what the person wants to do by DM, carrying the code's proof. The bridge
 * pairs the npub that asked for the code with this peer's DID, and from
 * then on acts for it only under these delegations.
 */
import { nip19 } from "nostr-tools";
import { WeftError } from "#protocol";
import { readNostrKey } from "../../bridges/nostr/key.ts";
import { nostrBridge } from "../../bridges/nostr/bridge.ts";
import type { NostrConfig } from "../../bridges/nostr/config.ts";
import { bridgeDir } from "../daemon/bridges.ts";
import { need, str, Usage } from "./args.ts";
import { configured, delegateToBridge, didOf } from "./bridge-commands.ts";
import type { Command } from "./command.ts";

const NAME = nostrBridge.name;

export const NOSTR_COMMANDS: Record<string, Command> = {
  "nostr address": {
    usage: "weft nostr address",
    summary: "Where to DM this peer's Nostr bridge: its npub and inbox relays",
    async run(_a, _v, io) {
      const setting = (await configured(io)).find((b) => b.name === NAME);
      if (!setting) {
        throw new Usage(`this peer runs no Nostr bridge: add [bridges.${NAME}] relays = [...] to weft.toml`);
      }
      const key = await readNostrKey(bridgeDir(io.home, NAME));
      if (!key) {
        throw new WeftError("NotFound", "not-found", "the Nostr bridge has no key yet: start the peer once");
      }
      const out = {
        npub: nip19.npubEncode(key.pubkey),
        pubkey: key.pubkey,
        relays: (setting.config as NostrConfig).relays,
        did: await didOf(io, NAME),
      };
      io.print(out, () => `${out.npub}\nrelays: ${out.relays.join(" ")}\nDM it "pair" from your Nostr client.`);
    },
  },
  "nostr pair": {
    usage: "weft nostr pair <code> [--bridge <did>] [--space <s>] [--command <cmd>]... [--expires 30d]",
    summary: "Confirm a Nostr pairing code with this peer's key: delegate to the bridge what your DMs may do",
    options: { bridge: { type: "string" }, command: { type: "string", multiple: true }, expires: { type: "string" } },
    async run(args, v, io) {
      const code = need(args, 0, "pairing code");
      const bridge = str(v, "bridge") ?? (await didOf(io, NAME));
      if (!bridge) {
        throw new Usage("name the bridge's DID with --bridge (the DM with the code gives it)");
      }
      const { space, delegations } = await delegateToBridge(io, v, {
        did: bridge,
        name: NAME,
        defaults: nostrBridge.commands,
        extra: { pairing: code },
        // The bridge acts for you alone (only under these delegations): what it signs is your act, and
        // marked as an agent's, every node would refuse your approval of an agent's request sent by DM.
        kind: "member",
      });
      io.print(
        { bridge, space, delegations },
        () =>
          `confirmed: the bridge ${bridge} may, for your DMs in ${space}:\n` +
          delegations.map((d) => `  ${d.command}  ${d.cid}`).join("\n") +
          "\nit DMs you once it sees this (revoke with weft cap revoke <cid>)",
      );
    },
  },
};
