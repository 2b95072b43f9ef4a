/**
 * Child process for the kill -9 test: a node on durable storage creates
 * tasks as fast as it can and prints "ack <id>" once each is acknowledged.
 */
import process from "node:process";
import { join } from "node:path";
import { createNode } from "../../protocol/node/node.ts";
import { fileKeystore } from "../../peer/keystore/file-keystore.ts";
import { loadOrCreate } from "../../protocol/identity/keystore.ts";
import { LogStorageAdapter } from "../../peer/storage/log-storage.ts";
import { nativeVerifier } from "../../peer/crypto/native-verifier.ts";

const dir = process.argv[2];
const keystore = fileKeystore({ dir: join(dir, "keys") });
const { signer } = await loadOrCreate(keystore, "node");
const storage = await LogStorageAdapter.open({ dir: join(dir, "docs") });
const node = await createNode({ signer, keystore, storage, verifier: nativeVerifier() });
const space = node.spaces()[0] ?? (await node.createSpace("burst"));
process.stdout.write(`space ${space.id}\n`);
const writer = async (w: number) => {
  for (let i = 0;; i++) {
    const t = await space.createTask({ title: `burst ${w}-${i}` });
    process.stdout.write(`ack ${t.id}\n`);
  }
};
await Promise.all([writer(0), writer(1), writer(2)]);
