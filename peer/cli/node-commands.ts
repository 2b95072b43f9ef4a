/**
 * `weft join`, `weft peers`, `weft capacity`, `weft token`, `weft pair`,
 * `weft cli rotate`: this peer's connections, the capacity the mesh
 * advertises, bearers for curl, sync URLs for stock clients, pairing links
 * for browsers, and a new key for this CLI when its file may have leaked.
 */
import { enc, need, plainNameArg, seconds, str, Usage } from "./args.ts";
import { type Command, resolveSpace } from "./command.ts";
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
  "cli rotate": {
    usage: "weft cli rotate",
    summary:
      "Give this CLI a new key (its cli.json may have leaked): the old key is revoked on this peer and in every space",
    async run(_a, _v, io) {
      const r = await (await io.client()).request<{ did: string; revoked: string[]; spaces: number }>(
        "POST",
        "/v1/cli-key",
      );
      io.print(r, () => `new CLI key ${r.did}; the old one is revoked here and in ${r.spaces} space(s)`);
    },
  },
  token: {
    usage: "weft token [METHOD PATH] | weft token --sync [--expires 12h] [--name <n>]",
    summary:
      "Print a one-use bearer for an API request (default: GET /v1/node), e.g. for curl; with --sync, a revocable sync URL a stock automerge-repo client can reconnect with until it expires",
    options: { sync: { type: "boolean" }, expires: { type: "string" }, name: { type: "string" } },
    async run(a, v, io) {
      if (!v.sync) {
        if (str(v, "expires") || str(v, "name")) throw new Usage("--expires and --name go with --sync");
        const bearer = await (await io.client()).bearer((a[0] ?? "GET").toUpperCase(), a[1] ?? "/v1/node");
        return io.print({ bearer }, () => bearer);
      }
      if (a.length > 0) throw new Usage("weft token --sync takes no METHOD PATH: it is for GET /v1/sync");
      const space = await resolveSpace(io, v);
      const expires = str(v, "expires");
      const name = str(v, "name");
      const r = await (await io.client()).request<
        { url: string; cid: string; expiration: number; documentUrl: string }
      >(
        "POST",
        `/v1/spaces/${enc(space)}/sync-tokens`,
        {
          ...(expires ? { expiration: Math.floor(Date.now() / 1000) + seconds(expires, "--expires") } : {}),
          ...(name ? { name: plainNameArg(name, "--name", 64) } : {}),
        },
      );
      io.print(r, () =>
        [
          r.url,
          `  document  ${r.documentUrl}`,
          `  expires   ${new Date(r.expiration * 1000).toISOString()}`,
          `  revoke    weft cap revoke ${r.cid}`,
        ].join("\n"));
    },
  },
  pair: {
    usage: "weft pair",
    summary: "Print a one-time link (15 min) that makes a browser a device of this peer's spaces",
    async run(_a, _v, io) {
      const r = await (await io.client()).request<{ url: string; expiresAt: number }>("POST", "/v1/pairings");
      io.print(r, () => r.url);
    },
  },
};
