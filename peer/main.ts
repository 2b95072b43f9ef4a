/**
 * `npm start`: load this peer's identity from its data dir (creating it on
 * first run) and print its DID.
 */
import { join } from "node:path";
import process from "node:process";
import { dataDirFromEnv, ensureDataDir } from "./data-dir.ts";
import { fileKeystore } from "./keystore/file-keystore.ts";
import { loadOrCreate } from "../protocol/identity/keystore.ts";
import { isWeftError } from "../protocol/errors.ts";

async function main(): Promise<void> {
  const dataDir = await ensureDataDir(dataDirFromEnv());
  const keystore = fileKeystore({ dir: join(dataDir, "keys") });
  const { signer, created } = await loadOrCreate(keystore, "node");
  console.log(`${created ? "created" : "loaded"} identity in ${dataDir}`);
  console.log(signer.did);
}

main().catch((e) => {
  console.error(isWeftError(e) ? `weft: ${e.message}` : e);
  process.exit(1);
});
