/**
 * Who an MCP server acts as: a principal of its own — an agent's key file
 * (0600) and the delegation chain a member gave it (`weft cap delegate
 * --to <its DID>`; one chain per command it holds, e.g. /weft/space/read
 * and /weft/task), never the node's key or the CLI's credentials. Every
 * tool call is then an API request the peer checks like any other, signed
 * by this key under this chain, so the MCP client holds exactly the rights
 * it was delegated.
 */
import { readFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { WeftError } from "#protocol";
import { Commands, decodeContainer, decodeDelegation, type Delegation } from "#protocol/ucan";
import { type Hlc, type OpArgs, type OpKind, OPS, type TaskView } from "#protocol/tasks";
import { type Patch, PATCH_OPS, type PatchOpArgs, type PatchOpKind } from "#protocol/patch";
import { ApiClient } from "../api/client.ts";
import { credentialsPath } from "../api/credentials.ts";
import { fileKeystore } from "../keystore/file-keystore.ts";
import type { Signer } from "#protocol/identity";

/** The most delegations a chain file may hold (a deeper chain is refused before anything else is read). */
const MAX_CHAIN = 32;
/** The most a chain file may weigh. */
const MAX_CHAIN_BYTES = 256 * 1024;

export interface Principal {
  did: string;
  space: string;
  /** The commands its chains end in: what it may do (a command proves every command below it). */
  commands: string[];
  /** A query, proved by the chain that holds /weft/space/read (the peer refuses it if none does). */
  get<T>(path: string): Promise<T>;
  /** A query answered as NDJSON lines. */
  lines<T>(path: string): AsyncGenerator<T>;
  /** A task operation signed by this principal, proved by the chain that holds its command. */
  op<K extends OpKind, T = TaskView>(kind: K, args: Omit<OpArgs<K>, "at">): Promise<T>;
  /** A patch operation signed by this principal, proved by the chain that holds its command. */
  patchOp<K extends PatchOpKind, T = Patch>(kind: K, args: Omit<PatchOpArgs<K>, "at">): Promise<T>;
}

function refuse(message: string): never {
  throw new WeftError("McpPrincipal", "input/invalid", message);
}

/**
 * A chain as text: a container (`weft cap delegate` prints one) or that
 * command's --json output; `from` names where it came from, for errors.
 */
export async function parseChain(raw: string, from: string): Promise<Delegation[]> {
  if (raw.length > MAX_CHAIN_BYTES) refuse(`${from} holds more than ${MAX_CHAIN_BYTES} bytes: not a chain`);
  let text = raw.trim();
  if (text.startsWith("{")) {
    try {
      text = String((JSON.parse(text) as { container?: unknown }).container ?? "");
    } catch {
      refuse(`${from} is neither a container nor \`weft cap delegate --json\` output`);
    }
  }
  const tokens = await decodeContainer(text);
  if (tokens.length > MAX_CHAIN) refuse(`${from} holds ${tokens.length} tokens; a chain here holds ${MAX_CHAIN}`);
  return tokens.map((t) => decodeDelegation(t));
}

/** The chain in a file. */
async function readChain(path: string): Promise<Delegation[]> {
  const raw = await readFile(path, "utf8").catch((e) => refuse(`cannot read the chain file ${path}: ${e.message}`));
  return await parseChain(raw, path);
}

/** The chain from the space's root down to `did`, root first (containers hold tokens in byte order). */
function orderChain(delegations: Delegation[], did: string): Delegation[] {
  const chain: Delegation[] = [];
  let audience = did;
  for (;;) {
    const next = delegations.find((d) => d.aud === audience && !chain.includes(d));
    if (!next) break;
    chain.unshift(next);
    if (next.iss === next.sub) break; // the space's root delegated it
    audience = next.iss;
  }
  if (chain.length === 0) {
    refuse(`the chain delegates nothing to ${did}: ask a member for \`weft cap delegate --to ${did}\``);
  }
  const space = chain[chain.length - 1].sub;
  if (space === null) {
    refuse("the chain ends in a powerline (every space of a node); an MCP client acts in one space: delegate in it");
  }
  if (chain[0].iss !== space) refuse(`the chain does not start at space ${space}'s root`);
  return chain;
}

/**
 * Where the peer answers and its DID: as given, else from the home's
 * cli.json — its public part only (the CLI's key in it is not used).
 */
export async function peerOf(
  home: string,
  given: { url?: string; node?: string },
): Promise<{ url: string; node: string }> {
  if (given.url && given.node) return { url: given.url, node: given.node };
  const path = credentialsPath(home);
  const raw = await readFile(path, "utf8").catch(() =>
    refuse(`no peer at ${home} (no ${path}): give --url and --node, or WEFT_HOME of a peer on this machine`)
  );
  let file: { url?: unknown; node?: unknown } = {};
  try {
    file = JSON.parse(raw);
  } catch {
    refuse(`${path} is damaged: restart the peer, or give --url and --node`);
  }
  const url = given.url ?? file.url;
  const node = given.node ?? file.node;
  if (typeof url !== "string" || typeof node !== "string") refuse(`${path} is damaged: give --url and --node`);
  return { url, node };
}

export async function loadPrincipal(options: {
  keyFile: string;
  chainFiles: string[];
  home: string;
  url?: string;
  node?: string;
}): Promise<Principal> {
  const name = basename(options.keyFile).replace(/\.json$/, "");
  const signer = await fileKeystore({ dir: dirname(options.keyFile) }).load(name);
  if (!signer) refuse(`no key at ${options.keyFile}: make one with \`weft mcp key ${options.keyFile}\``);
  const peer = await peerOf(options.home, options);
  const nodeKey = await fileKeystore({ dir: join(options.home, "keys") }).load("node").catch(() => undefined);
  if (signer.did === peer.node || signer.did === nodeKey?.did) {
    refuse(
      "that is the node's own key: an MCP client acts as its own principal, with a key and a delegation of its own",
    );
  }
  const chains: Delegation[][] = [];
  for (const file of options.chainFiles) chains.push(await readChain(file));
  return principalOf(signer, chains, peer);
}

/**
 * A principal from its key and the chains delegated to it (each in any
 * order: it is ordered from the space's root down to the key's DID).
 */
export function principalOf(
  signer: Signer,
  delegations: Delegation[][],
  peer: { url: string; node: string },
): Principal {
  const chains = delegations.map((d) => orderChain(d, signer.did));
  if (chains.length === 0) refuse("give at least one chain");
  const space = chains[0][chains[0].length - 1].sub!;
  const elsewhere = chains.find((c) => c[c.length - 1].sub !== space);
  if (elsewhere) {
    refuse(`the chains delegate in two spaces (${space}, ${elsewhere[elsewhere.length - 1].sub}): give one space's`);
  }
  // One API client per chain: each request carries the one chain that proves it.
  const clients = chains.map((chain) => {
    const leaf = chain[chain.length - 1];
    const credentials = { url: peer.url, node: peer.node, signer, nodeDelegation: leaf, powerline: leaf };
    return {
      command: leaf.cmd,
      client: new ApiClient(credentials, peer.url, { [space]: chain.slice(0, -1).map((d) => d.cid.toString()) }),
    };
  });
  // The chain proving `command`, or (when none does) the first: the peer then refuses it and says why.
  const clientFor = (command: string) =>
    (clients.find((c) => c.command === "/" || command === c.command || command.startsWith(`${c.command}/`)) ??
      clients[0]).client;
  const reader = clientFor(Commands.spaceRead);
  /** Where an operation signed through `client` stands: after what the reader last heard of the space. */
  const position = (client: ApiClient) => {
    const heard = client === reader ? undefined : reader.heads(space);
    const at: Hlc | undefined = heard && heard.at[0] >= Date.now() ? [heard.at[0], heard.at[1] + 1] : undefined;
    return heard ? { after: heard.heads, ...(at ? { at } : {}) } : {};
  };
  return {
    did: signer.did,
    space,
    commands: clients.map((c) => c.command),
    get: (path) => reader.get(path),
    lines: (path) => reader.lines(path),
    op(kind, args) {
      const client = clientFor(OPS[kind].command);
      return client.op(space, kind, args, position(client));
    },
    patchOp(kind, args) {
      const client = clientFor(PATCH_OPS[kind].command);
      return client.patchOp(space, kind, args, position(client));
    },
  };
}
