/** Child process for the kill -9 test: writes concurrently, prints "ack N" once write N is durable. */
import process from "node:process";
import { LogStorageAdapter } from "../../peer/storage/log-storage.ts";

const s = await LogStorageAdapter.open({ dir: process.argv[2] });
let i = 0;
const writer = async () => {
  for (;;) {
    const n = i++;
    await s.save(["burst", String(n)], new Uint8Array(512).fill(n % 256));
    process.stdout.write(`ack ${n}\n`);
  }
};
await Promise.all([writer(), writer(), writer(), writer()]);
