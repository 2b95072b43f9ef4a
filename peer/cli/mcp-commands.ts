/**
 * `weft mcp`: serve the space over the Model Context Protocol (peer/mcp/).
 * Over stdio (the default: an MCP client starts it) it acts as the
 * principal given with --key and --chain. Over streamable HTTP on loopback
 * (--http) each client is a principal of its own, authorized through the
 * MCP spec's OAuth flow; `weft mcp grant CODE` is the person's answer to
 * that flow, delegating to the client with the person's credentials.
 * `weft mcp key` makes a principal's key for stdio.
 */
import process from "node:process";
import { basename, dirname } from "node:path";
import { Commands } from "#protocol/ucan";
import { list, need, seconds, str, Usage } from "./args.ts";
import { type Command, resolveSpace } from "./command.ts";

const MCP_USAGE =
  "weft mcp --key <key file> --chain <chain file>... [--url u --node did] | weft mcp --http [--port n] [--url u --node did]";
const peerOptions = (v: Record<string, unknown>) => ({
  ...(typeof v.url === "string" ? { url: v.url } : {}),
  ...(typeof v.node === "string" ? { node: v.node } : {}),
});

export const MCP_COMMANDS: Record<string, Command> = {
  mcp: {
    usage: MCP_USAGE,
    summary: "Serve the space over MCP: stdio as the key's own principal, or --http with OAuth (each client its own)",
    options: {
      key: { type: "string" },
      chain: { type: "string", multiple: true },
      node: { type: "string" },
      http: { type: "boolean" },
      port: { type: "string" },
    },
    async run(_a, v, io) {
      if (v.http) {
        if (str(v, "key") || list(v, "chain").length > 0) {
          throw new Usage(
            "over --http each client is its own principal, authorized by a person (weft mcp grant CODE): " +
              "drop --key and --chain",
          );
        }
        const port = str(v, "port");
        if (port !== undefined && (!/^\d{1,5}$/.test(port) || Number(port) > 65535)) {
          throw new Usage("--port is a port number (0 picks a free one)");
        }
        const [{ serveMcpHttp }, { oauthDir }] = await Promise.all([
          import("../mcp/http.ts"),
          import("../mcp/oauth/store.ts"),
        ]);
        const dir = oauthDir(io.home);
        const server = await serveMcpHttp({ home: io.home, dir, port: Number(port ?? 0), peer: peerOptions(v) });
        io.print(
          { url: server.url, state: dir },
          () => `MCP on ${server.url}; clients authorize through OAuth, and you grant each: weft mcp grant CODE`,
        );
        await new Promise<void>((resolve) => {
          process.once("SIGINT", resolve);
          process.once("SIGTERM", resolve);
        });
        return await server.close();
      }
      const keyFile = str(v, "key");
      const chainFiles = list(v, "chain");
      if (!keyFile || chainFiles.length === 0) {
        throw new Usage(
          "--key and --chain are required: `weft mcp key agent.json` makes a key; a member delegates to its DID " +
            "with `weft cap delegate --to <did> --command /weft/task --kind agent --json > task.json` " +
            "(and /weft/space/read to read it): one --chain per delegation",
        );
      }
      const { loadPrincipal } = await import("../mcp/principal.ts");
      const principal = await loadPrincipal({ keyFile, chainFiles, home: io.home, ...peerOptions(v) });
      const space = str(v, "space");
      if (space && space !== principal.space) {
        throw new Usage(`the chain delegates in space ${principal.space}, not ${space}`);
      }
      const [{ StdioServerTransport }, { createMcpServer }] = await Promise.all([
        import("@modelcontextprotocol/sdk/server/stdio.js"),
        import("../mcp/server.ts"),
      ]);
      const transport = new StdioServerTransport();
      const closed = new Promise<void>((resolve) => (transport.onclose = resolve));
      process.stdin.once("end", () => void transport.close());
      await createMcpServer(principal).connect(transport);
      return await closed;
    },
  },
  "mcp grant": {
    usage: "weft mcp grant <CODE> [--command c]... [--expires 30d] [--space s] | weft mcp grant <CODE> --deny [reason]",
    summary: "Answer an MCP client's authorization: delegate to its own DID (what it asked, or --command), or --deny",
    options: {
      command: { type: "string", multiple: true },
      expires: { type: "string" },
      deny: { type: "boolean" },
    },
    async run(a, v, io) {
      const code = need(a, 0, "code");
      const [{ oauthDir }, { grant, deny }] = await Promise.all([
        import("../mcp/oauth/store.ts"),
        import("../mcp/oauth/grant.ts"),
      ]);
      const client = await io.client();
      if (v.deny) {
        const r = await deny(oauthDir(io.home), code, client.signer.did, a[1] ?? "the person refused");
        return io.print({ denied: r.client, did: r.did }, () => `refused ${r.clientName} (${r.did})`);
      }
      const commands = list(v, "command");
      const unknown = commands.find((c) => !Object.values(Commands).includes(c as never));
      if (unknown) throw new Usage(`--command ${unknown} is not a Weft command (see weft cap inspect, or /weft/task)`);
      const r = await grant({
        dir: oauthDir(io.home),
        code,
        client,
        by: client.signer.did,
        space: await resolveSpace(io, v),
        commands,
        expiration: Math.floor(Date.now() / 1000) + seconds(str(v, "expires") ?? "30d", "--expires"),
      });
      io.print(
        { client: r.request.client, did: r.request.did, commands: r.commands, delegations: r.cids },
        () =>
          `granted ${r.request.clientName} (${r.request.did}) ${r.commands.join(", ")}; ` +
          `revoke with weft cap revoke <cid>: ${r.cids.join(" ")}`,
      );
    },
  },
  "mcp key": {
    usage: "weft mcp key <key file>",
    summary: "Make a key for an MCP client's own principal (0600) and print its DID",
    async run(a, _v, io) {
      const file = need(a, 0, "key file");
      const { fileKeystore } = await import("../keystore/file-keystore.ts");
      const signer = await fileKeystore({ dir: dirname(file) }).create(basename(file).replace(/\.json$/, ""));
      io.print({ did: signer.did, key: file }, () => signer.did);
    },
  },
};
