/**
 * `weft join`, `weft peers`, `weft capacity`, `weft token`: this peer's
 * connections, the capacity the mesh advertises, and bearers for curl.
 */
import { need, str } from "./args.ts";
import type { Command } from "./command.ts";
import { short, table } from "./output.ts";

export const NODE_COMMANDS: Record<string, Command> = {
  join: {
    usage: "weft join <multiaddr | ws-url> [--invite <token>]",
    summary: "Connect to a peer (kept connected) and optionally join a space with an invite",
    options: { invite: { type: "string" } },
    async run(a, v, io) {
      const address = need(a, 0, "multiaddr | ws-url");
      const client = await io.client();
      await client.request("POST", "/v1/peers", { address });
      const invite = str(v, "invite");
      if (!invite) return io.print({ connecting: address }, () => `connecting to ${address}`);
      const space = await client.request<{ id: string; name: string }>("POST", "/v1/spaces/join", {
        invite,
        peers: [address],
      });
      io.print(space, () => `joined ${space.name} (${space.id})`);
    },
  },
  peers: {
    usage: "weft peers",
    summary: "Connected peers",
    async run(_a, _v, io) {
      const r = await (await io.client()).get<{ peers: Array<Record<string, unknown>> }>("/v1/peers");
      io.print(r, () => table(r.peers, ["peerId", "addresses"]));
    },
  },
  capacity: {
    usage: "weft capacity",
    summary: "Capacity adverts of live nodes",
    async run(_a, _v, io) {
      const r = await (await io.client()).get<{ nodes: Array<Record<string, any>> }>("/v1/capacity");
      io.print(
        r,
        () =>
          table(
            r.nodes.map((n) => ({
              node: short(n.node),
              cores: n.cpu.cores,
              load: n.cpu.load,
              memFreeMb: n.memoryMb.free,
              gpus: n.gpus,
              runners: n.runners,
              tags: n.tags,
              expires: new Date(n.expires).toISOString(),
            })),
            ["node", "cores", "load", "memFreeMb", "gpus", "runners", "tags", "expires"],
          ),
      );
    },
  },
  token: {
    usage: "weft token [METHOD PATH]",
    summary: "Print a one-use bearer for an API request (default: GET /v1/node), e.g. for curl",
    async run(a, _v, io) {
      const bearer = await (await io.client()).bearer((a[0] ?? "GET").toUpperCase(), a[1] ?? "/v1/node");
      io.print({ bearer }, () => bearer);
    },
  },
};
