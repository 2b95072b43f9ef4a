/**
 * Streaming sha-256 as artifacts use it: digestStream over 1 MiB chunks of
 * an async iterable with the peer's hasher (node:crypto behind the
 * protocol's Sha256Stream interface), and verifyOutput (size and digest
 * checked against a manifest output) — against raw node:crypto
 * createHash().update() over the same chunks, in alternating rounds of the
 * same run. The portable hasher (@noble/hashes, what protocol/ uses where
 * no native one is plugged in) is reported against the same baseline.
 */
import { createHash } from "node:crypto";
import { digestStream, portableSha256 } from "../../protocol/artifacts/digest.ts";
import { verifyOutput } from "../../protocol/artifacts/verify.ts";
import { nativeSha256Stream } from "../../peer/crypto/native-sha256.ts";
import { pattern } from "../helpers/artifacts.ts";
import { interleaved, opsPerSecond, report } from "./report.ts";

const BENCH = "artifacts-sha256";
const MB = 1024 * 1024;
const SIZE = 64 * MB;

const chunks: Uint8Array[] = [];
for await (const c of pattern(SIZE, MB, 5)) chunks.push(c);
const raw = () => {
  const h = createHash("sha256");
  for (const c of chunks) h.update(c);
  return h.digest("hex");
};
const sha256 = raw();
const output = { path: "bench.bin", size: SIZE, sha256 };

async function* stream(): AsyncGenerator<Uint8Array> {
  yield* chunks;
}

const rates = await interleaved(
  {
    raw: () => raw(),
    digestStream: async () => {
      if ((await digestStream(stream(), nativeSha256Stream)).sha256 !== sha256) throw new Error("wrong digest");
    },
    verifyOutput: () => verifyOutput(output, stream(), nativeSha256Stream),
  },
  7,
  1200,
);
const portable = await opsPerSecond(() => digestStream(stream(), portableSha256), 3000);

const mbps = (opsPerSecond: number) => opsPerSecond * (SIZE / MB);
const note = "64 MiB in 1 MiB chunks; baseline: raw node:crypto createHash over the same chunks";
report({
  bench: BENCH,
  metric: "digestStream, native",
  value: mbps(rates.digestStream),
  unit: "MB/s",
  baseline: mbps(rates.raw),
  note,
});
report({
  bench: BENCH,
  metric: "verifyOutput, native",
  value: mbps(rates.verifyOutput),
  unit: "MB/s",
  baseline: mbps(rates.raw),
});
report({
  bench: BENCH,
  metric: "digestStream, portable (@noble/hashes)",
  value: mbps(portable),
  unit: "MB/s",
  baseline: mbps(rates.raw),
  note: "baseline measured in the rounds above",
});
