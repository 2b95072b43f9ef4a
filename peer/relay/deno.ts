/**
 * The relay on Deno and Deno Deploy: `deno run -A peer/relay/deno.ts`.
 * Its key comes from WEFT_RELAY_KEY (the base64url of a 32-byte seed: a
 * secret; never a user's key), its documents live in Deno KV (WEFT_RELAY_KV
 * names a local file; on Deno Deploy the platform's store is used).
 */
import { loadConfig } from "../daemon/config.ts";
import { serve } from "../http/serve.ts";
import { defaultVerifier, signerFromSeed } from "#protocol/identity";
import { fromBase64Url } from "#protocol";
import { KvStorageAdapter } from "#protocol/storage";
import { openDenoKv } from "./deno-kv.ts";
import { createRelay } from "./relay.ts";

interface DenoEnv {
  env: { toObject(): Record<string, string> };
  exit(code: number): never;
}
const Deno = (globalThis as unknown as { Deno: DenoEnv }).Deno;
const env = Deno.env.toObject();

function fail(message: string): never {
  console.error(`weft relay: ${message}`);
  Deno.exit(2);
  throw new Error(message); // not reached: Deno.exit does not return
}

let seed: Uint8Array;
try {
  seed = fromBase64Url(env.WEFT_RELAY_KEY ?? "");
} catch {
  fail("WEFT_RELAY_KEY must be base64url");
}
if (seed.length !== 32) {
  fail("WEFT_RELAY_KEY must hold a 32-byte Ed25519 seed (base64url); generate one with `weft relay-key`");
}
const config = await loadConfig({ ...env, WEFT_HTTP_PORT: env.WEFT_HTTP_PORT ?? env.PORT ?? "8000" }).catch((e) =>
  fail(e.message)
);
const relay = await createRelay({
  signer: await signerFromSeed(seed),
  verifier: await defaultVerifier(),
  storage: new KvStorageAdapter(await openDenoKv(env.WEFT_RELAY_KV)),
  ...(config.relay.spaces.length ? { spaces: config.relay.spaces } : {}),
});
const http = await serve({
  app: relay.app,
  host: config.http.host,
  port: config.http.port,
  upgrade: (url) => relay.upgrade(url),
});
console.log(`Weft relay ${relay.node.did}\n  sync   ws://${http.host}:${http.port}/v1/sync`);
