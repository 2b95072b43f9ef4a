/**
 * One MCP server over a space, acting as one principal: the parts in
 * parts.ts registered on the SDK's McpServer. The transports (stdio.ts,
 * http.ts) make one per connection or session.
 */
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { VERSION } from "../version.ts";
import { MCP_PARTS } from "./parts.ts";
import type { Principal } from "./principal.ts";

export function createMcpServer(principal: Principal): McpServer {
  const server = new McpServer(
    { name: "weft", version: VERSION },
    {
      instructions:
        `Weft space ${principal.space}. You act as ${principal.did}, holding ${principal.commands.join(", ")} ` +
        "in it; a call outside what you were delegated is refused with a tool error saying why.",
    },
  );
  for (const part of MCP_PARTS) part.register(server, principal);
  return server;
}
