/**
 * `weft mcp`: serve the space over the Model Context Protocol as a
 * principal of its own (peer/mcp/), over stdio (the default: an MCP client
 * starts it) or streamable HTTP on loopback; `weft mcp key` makes that
 * principal's key.
 */
import process from "node:process";
import { basename, dirname } from "node:path";
import { list, need, str, Usage } from "./args.ts";
import type { Command } from "./command.ts";

const MCP_USAGE =
  "weft mcp --key <key file> --chain <chain file>... [--http [--port n] [--token-file path]] [--url u --node did]";

export const MCP_COMMANDS: Record<string, Command> = {
  mcp: {
    usage: MCP_USAGE,
    summary: "Serve the space over MCP (stdio, or --http on loopback), acting as the key's own principal",
    options: {
      key: { type: "string" },
      chain: { type: "string", multiple: true },
      node: { type: "string" },
      http: { type: "boolean" },
      port: { type: "string" },
      "token-file": { type: "string" },
    },
    async run(_a, v, io) {
      const keyFile = str(v, "key");
      const chainFiles = list(v, "chain");
      if (!keyFile || chainFiles.length === 0) {
        throw new Usage(
          "--key and --chain are required: `weft mcp key agent.json` makes a key; a member delegates to its DID " +
            "with `weft cap delegate --to <did> --command /weft/task --kind agent --json > task.json` " +
            "(and /weft/space/read to read it): one --chain per delegation",
        );
      }
      const port = str(v, "port");
      if (port !== undefined && (!/^\d{1,5}$/.test(port) || Number(port) > 65535)) {
        throw new Usage("--port is a port number (0 picks a free one)");
      }
      const { loadPrincipal } = await import("../mcp/principal.ts");
      const principal = await loadPrincipal({
        keyFile,
        chainFiles,
        home: io.home,
        ...(str(v, "url") ? { url: str(v, "url") } : {}),
        ...(str(v, "node") ? { node: str(v, "node") } : {}),
      });
      const space = str(v, "space");
      if (space && space !== principal.space) {
        throw new Usage(`the chain delegates in space ${principal.space}, not ${space}`);
      }
      if (!v.http) {
        const [{ StdioServerTransport }, { createMcpServer }] = await Promise.all([
          import("@modelcontextprotocol/sdk/server/stdio.js"),
          import("../mcp/server.ts"),
        ]);
        const transport = new StdioServerTransport();
        const closed = new Promise<void>((resolve) => (transport.onclose = resolve));
        process.stdin.once("end", () => void transport.close());
        await createMcpServer(principal).connect(transport);
        return await closed;
      }
      const [{ serveMcpHttp }, { writeFileAtomic }] = await Promise.all([
        import("../mcp/http.ts"),
        import("../storage/atomic-file.ts"),
      ]);
      const server = await serveMcpHttp(principal, { port: Number(port ?? 0) });
      const tokenFile = str(v, "token-file") ??
        `${dirname(keyFile)}/${basename(keyFile).replace(/\.json$/, "")}.mcp-token`;
      await writeFileAtomic(tokenFile, server.token + "\n", 0o600);
      io.print(
        { url: server.url, tokenFile, did: principal.did, space: principal.space },
        () =>
          `MCP on ${server.url} as ${principal.did}; clients send Authorization: Bearer <the token in ${tokenFile}>`,
      );
      await new Promise<void>((resolve) => {
        process.once("SIGINT", resolve);
        process.once("SIGTERM", resolve);
      });
      await server.close();
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
