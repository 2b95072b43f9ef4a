/**
 * What `weft mcp --http`'s authorization server keeps, in <home>/mcp-oauth/
 * (0700): the clients that registered — each with a key of its own, its
 * principal (0600, never leaving this machine), and the chains a person
 * granted that key — and the hashes of the codes and tokens it issued
 * (never the tokens themselves). One JSON file, written atomically before a
 * registration, a grant or a token is answered, so a restart loses nothing
 * that was handed out. Bounded: a full store refuses new clients and drops
 * expired tokens first.
 */
import { createHash } from "node:crypto";
import { mkdir, readFile, rm } from "node:fs/promises";
import process from "node:process";
import { join } from "node:path";
import type { OAuthClientInformationFull } from "@modelcontextprotocol/sdk/shared/auth.js";
import { WeftError } from "#protocol";
import { fileKeystore } from "../../keystore/file-keystore.ts";
import { createFileExclusive, writeFileAtomic } from "../../storage/atomic-file.ts";
import type { Signer } from "#protocol/identity";

/** The most clients that may register; the next is refused. */
export const MAX_CLIENTS = 64;
/** The most live codes and tokens (expired ones are dropped first). */
const MAX_TOKENS = 4096;
const MAX_STORE_BYTES = 8 * 1024 * 1024;

/** What a person granted a client: delegations in one space, as the containers the peer answered. */
export interface Grant {
  space: string;
  commands: string[];
  containers: string[];
  at: number;
}

export interface ClientRecord {
  info: OAuthClientInformationFull;
  /** The client's own principal. */
  did: string;
  grant?: Grant;
}

/** A code or token, by the hash of its value. */
export interface TokenRecord {
  kind: "code" | "access" | "refresh";
  client: string;
  /** Milliseconds since the epoch. */
  expires: number;
  /** The MCP endpoint it is for (RFC 8707): a token for another resource is refused here. */
  resource: string;
  /** For a code: its PKCE challenge (S256) and the redirect it was sent to. */
  challenge?: string;
  redirectUri?: string;
}

interface StoreFile {
  version: 1;
  clients: Record<string, ClientRecord>;
  tokens: Record<string, TokenRecord>;
}

export const hashToken = (token: string) => createHash("sha256").update(token).digest("hex");

/** The directory both the server and `weft mcp grant` use under a peer's home. */
export const oauthDir = (home: string) => join(home, "mcp-oauth");

/** Take the lock file, or say which live process holds it (one left by a process that died is taken over). */
async function lock(path: string): Promise<void> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      return await createFileExclusive(path, String(process.pid));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    const holder = Number(await readFile(path, "utf8").catch(() => "0"));
    let alive = false;
    try {
      alive = holder > 0 && process.kill(holder, 0);
    } catch {
      alive = false;
    }
    if (alive) {
      throw new WeftError("OAuthStore", "mcp/busy", `weft mcp --http already serves this home (process ${holder})`);
    }
    await rm(path, { force: true });
  }
  throw new WeftError("OAuthStore", "mcp/busy", `cannot take ${path}: another server is starting`);
}

export class OAuthStore {
  private readonly dir: string;
  private readonly file: StoreFile;
  private constructor(dir: string, file: StoreFile) {
    this.dir = dir;
    this.file = file;
  }

  /** Open the store, held by this process alone until close(): two servers on one home would undo each other's writes. */
  static async open(dir: string): Promise<OAuthStore> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await lock(join(dir, "lock"));
    const path = join(dir, "store.json");
    let raw: string | undefined;
    try {
      raw = await readFile(path, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
    if (raw === undefined) return new OAuthStore(dir, { version: 1, clients: {}, tokens: {} });
    if (raw.length > MAX_STORE_BYTES) {
      throw new WeftError("OAuthStore", "mcp/state-damaged", `${path} is over ${MAX_STORE_BYTES} bytes; remove it`);
    }
    let file: StoreFile;
    try {
      file = JSON.parse(raw);
      if (file.version !== 1 || typeof file.clients !== "object" || typeof file.tokens !== "object") throw new Error();
    } catch {
      throw new WeftError(
        "OAuthStore",
        "mcp/state-damaged",
        `${path} is damaged: remove it (registered MCP clients then register again)`,
      );
    }
    return new OAuthStore(dir, file);
  }

  async close(): Promise<void> {
    await rm(join(this.dir, "lock"), { force: true });
  }

  private keys() {
    return fileKeystore({ dir: join(this.dir, "keys") });
  }

  private async save(): Promise<void> {
    await writeFileAtomic(join(this.dir, "store.json"), JSON.stringify(this.file), 0o600);
  }

  client(id: string): ClientRecord | undefined {
    return Object.hasOwn(this.file.clients, id) ? this.file.clients[id] : undefined;
  }

  /** Register a client: a key of its own made first, then the record kept, then the answer. */
  async register(info: OAuthClientInformationFull): Promise<ClientRecord> {
    if (Object.keys(this.file.clients).length >= MAX_CLIENTS) {
      throw new WeftError(
        "OAuthStore",
        "mcp/busy",
        `this server holds ${MAX_CLIENTS} registered clients; to start afresh, stop it and remove ${this.dir}`,
      );
    }
    const signer = await this.keys().create(info.client_id);
    const record: ClientRecord = { info, did: signer.did };
    this.file.clients[info.client_id] = record;
    await this.save();
    return record;
  }

  signer(id: string): Promise<Signer | undefined> {
    return this.keys().load(id);
  }

  async setGrant(id: string, grant: Grant): Promise<void> {
    const record = this.client(id);
    if (!record) throw new WeftError("OAuthStore", "not-found", `no client ${id}`);
    record.grant = grant;
    await this.save();
  }

  token(value: string): TokenRecord | undefined {
    const h = hashToken(value);
    const t = Object.hasOwn(this.file.tokens, h) ? this.file.tokens[h] : undefined;
    return t && t.expires > Date.now() ? t : undefined;
  }

  /** Keep new codes or tokens and drop used ones, in one write. */
  async issue(add: Record<string, TokenRecord>, drop: string[] = []): Promise<void> {
    const now = Date.now();
    for (const [h, t] of Object.entries(this.file.tokens)) if (t.expires <= now) delete this.file.tokens[h];
    for (const value of drop) delete this.file.tokens[hashToken(value)];
    if (Object.keys(this.file.tokens).length + Object.keys(add).length > MAX_TOKENS) {
      throw new WeftError("OAuthStore", "mcp/busy", `this server holds ${MAX_TOKENS} live tokens; try again later`);
    }
    for (const [value, t] of Object.entries(add)) this.file.tokens[hashToken(value)] = t;
    await this.save();
  }
}
