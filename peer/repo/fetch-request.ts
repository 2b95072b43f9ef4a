/**
 * The request the asking peer sends to `git upload-pack` (protocol v2)
 * once it has read the capability advertisement: `command=fetch` for
 * `wants`, offering `haves` (the local repository's ref tips) and saying
 * "done" at once, so the answer is the pack and nothing else — no
 * negotiation rounds. A thin pack with offset deltas and no progress: what
 * `git index-pack --fix-thin` takes. Haves the peer lacks are ignored by
 * it; ones it has spare it sending what is here already.
 */
import { GitTransferError } from "#protocol/sync";

const encoder = new TextEncoder();

function pkt(line: string): string {
  return (line.length + 4).toString(16).padStart(4, "0") + line;
}

export function encodeFetchRequest(
  capabilities: readonly string[],
  wants: readonly string[],
  haves: readonly string[],
): Uint8Array {
  if (!capabilities.some((c) => c === "fetch" || c.startsWith("fetch="))) {
    throw new GitTransferError("sync/protocol", "the peer's git does not offer fetch (protocol v2)");
  }
  const format = capabilities.find((c) => c.startsWith("object-format="));
  return encoder.encode(
    pkt("command=fetch\n") +
      (format ? pkt(`${format}\n`) : "") +
      "0001" +
      pkt("thin-pack\n") +
      pkt("ofs-delta\n") +
      pkt("no-progress\n") +
      wants.map((id) => pkt(`want ${id}\n`)).join("") +
      haves.map((id) => pkt(`have ${id}\n`)).join("") +
      pkt("done\n") +
      "0000",
  );
}
