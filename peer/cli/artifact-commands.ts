/**
 * `weft artifact ls|get|put|verify`: the artifact commands, as entries for
 * weft.ts's COMMANDS (keyed "artifact ls", …). Transfers stream, show a progress bar on
 * a terminal, and downloads resume: an interrupted `get` leaves a `.part`
 * file that the next `get` of the same artifact continues from.
 */
import process from "node:process";
import { mkdir } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { errorCodeOf, WeftError } from "#protocol";
import { sha256OfCid } from "#protocol/artifacts";
import { ArtifactClient } from "../artifacts/api-client.ts";
import type { Downloaded } from "../artifacts/download.ts";
import { progressBar, type ProgressSink } from "../artifacts/progress.ts";
import { need, str, type Values } from "./args.ts";
import { type Command, type Io, resolveSpace } from "./command.ts";
import { short, table } from "./output.ts";

/** Where progress bars go (stderr, so stdout stays the result). */
const sink: ProgressSink = {
  get isTTY() {
    return process.stderr.isTTY === true;
  },
  get columns() {
    return process.stderr.columns;
  },
  write: (text) => process.stderr.write(text),
};

async function context(io: Io, v: Values): Promise<{ client: ArtifactClient; space: string }> {
  const space = await resolveSpace(io, v);
  return { client: new ArtifactClient(await io.client()), space };
}

function isRaw(cid: string): boolean {
  try {
    sha256OfCid(cid);
    return true;
  } catch {
    return false;
  }
}

const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;

export const ARTIFACT_COMMANDS: Record<string, Command> = {
  "artifact ls": {
    usage: "weft artifact ls [<manifest-cid>] [--space s]",
    summary: "Run manifests and artifacts in the space, or one manifest's outputs",
    async run(a, v, io) {
      const { client, space } = await context(io, v);
      if (a[0]) {
        const m = await client.manifest(space, a[0]);
        io.print(m, () =>
          [
            `${m.cid}  ${m.manifest.status} run of task ${m.manifest.task} by ${
              short(m.manifest.runner.did)
            } (${m.manifest.runner.kind})`,
            `  ${new Date(m.manifest.startedAt).toISOString()} → ${new Date(m.manifest.endedAt).toISOString()}`,
            table(m.manifest.outputs, ["path", "size", "mediaType", "cid"]),
          ].join("\n"));
        return;
      }
      const r = await client.list(space);
      io.print(r, () =>
        [
          "manifests:",
          table(r.manifests.map((m) => ({ ...m, by: short(m.by) })), [
            "cid",
            "task",
            "outcome",
            "by",
            "pinned",
            "title",
          ]),
          "artifacts:",
          table(r.artifacts, ["cid", "sha256"]),
        ].join("\n"));
    },
  },
  "artifact put": {
    usage: "weft artifact put <file> [--space s]",
    summary: "Upload a file to the peer's artifact store (S3 when configured); prints its CID",
    async run(a, v, io) {
      const file = resolve(need(a, 0, "file"));
      const { client, space } = await context(io, v);
      const hashing = progressBar(`hashing ${basename(file)}`, sink);
      let sending: ReturnType<typeof progressBar> | undefined;
      const stored = await client.upload(space, file, {
        hashing: (d, t) => hashing.update(d, t),
        sending: (d, t) => {
          if (!sending) {
            hashing.finish();
            sending = progressBar(`sending ${basename(file)}`, sink);
          }
          sending.update(d, t);
        },
      });
      (sending ?? hashing).finish();
      io.print(stored, () => `${stored.cid}  ${mb(stored.size)}  sha256:${stored.sha256}  (${stored.location.store})`);
    },
  },
  "artifact get": {
    usage: "weft artifact get <cid> [<path-in-manifest>] [-o <file | dir>] [--space s]",
    summary: "Download an artifact (raw CID) or a run's outputs (manifest CID); resumes interrupted downloads",
    options: { output: { type: "string", short: "o" } },
    async run(a, v, io) {
      const cid = need(a, 0, "cid");
      const { client, space } = await context(io, v);
      const wanted: Array<{ cid: string; file: string; size?: number }> = [];
      if (isRaw(cid)) {
        wanted.push({ cid, file: resolve(str(v, "output") ?? cid) });
      } else {
        const m = await client.manifest(space, cid);
        const outputs = a[1] ? m.manifest.outputs.filter((o) => o.path === a[1]) : m.manifest.outputs;
        if (outputs.length === 0) throw new WeftError("NotFound", "not-found", `manifest ${cid} has no output ${a[1]}`);
        const single = a[1] !== undefined;
        const dir = resolve(str(v, "output") ?? (single ? "." : cid));
        for (const o of outputs) {
          const file = single && str(v, "output") ? dir : join(dir, single ? basename(o.path) : o.path);
          wanted.push({ cid: o.cid, file, size: o.size });
        }
      }
      const done: Array<Downloaded & { cid: string }> = [];
      for (const w of wanted) {
        await mkdir(dirname(w.file), { recursive: true });
        const bar = progressBar(basename(w.file), sink);
        const got = await client.download(space, w.cid, w.file, {
          ...(w.size !== undefined ? { size: w.size } : {}),
          onProgress: (d, t) => bar.update(d, t),
        });
        bar.finish();
        done.push({ cid: w.cid, ...got });
      }
      io.print(
        done,
        () =>
          done.map((d) =>
            `${d.path}  ${mb(d.size)}  verified${d.resumedFrom > 0 ? ` (resumed at ${mb(d.resumedFrom)})` : ""}`
          ).join("\n"),
      );
    },
  },
  "artifact verify": {
    usage: "weft artifact verify <manifest-cid> [--space s]",
    summary: "Check a run's provenance: the runner's signature and run capability, and every byte of its outputs",
    async run(a, v, io) {
      const { client, space } = await context(io, v);
      const r = await client.verify(space, need(a, 0, "manifest-cid"));
      io.print(r, () =>
        [
          r.error ? `${r.cid}: NOT VERIFIED: ${r.error.message}` : `${r.cid}: ${r.ok ? "verified" : "NOT VERIFIED"}`,
          ...(r.runner
            ? [
              `  ${r.status} run of task ${r.task} by ${r.runner.did} (${r.runner.kind})`,
              `  authorized by invocation ${r.invocation} through ${r.chain?.length} delegation(s)`,
            ]
            : []),
          ...r.outputs.map((o) =>
            `  ${o.ok ? "ok  " : "FAIL"} ${o.path}  ${mb(o.size)}${o.error ? `  ${o.error.message}` : ""}`
          ),
        ].join("\n"));
      if (!r.ok) {
        throw new WeftError(
          "ArtifactError",
          errorCodeOf(r.error?.code, "artifact/digest-mismatch"),
          `${r.cid} did not verify`,
        );
      }
    },
  },
};
