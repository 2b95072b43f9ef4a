/**
 * `weft ci-adapter`: Radicle CI on Weft's runners. radicle-ci-broker spawns
 * it with a trigger message on stdin (a push or a patch in a repository of
 * this machine's Radicle storage); it reads the repository's test spec
 * (`.weft/ci.json`) at the commit, submits the WASM component it names as a
 * run on the mesh (as `weft run` does, keyed by repository, commit and event
 * so a re-sent trigger is not a second run), and answers the broker's JSON
 * lines: `triggered` with the run's id, then `finished` with success or
 * failure. Anything wrong before the run exists is an error on stderr and a
 * non-zero exit, as the broker expects of an adapter that could not start.
 */
import process from "node:process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { Pod } from "#protocol/scheduler";
import type { RunSpec } from "#protocol/runner";
import { str } from "./args.ts";
import { type Command, resolveSpace } from "./command.ts";
import { ArtifactClient } from "../artifacts/api-client.ts";
import { QUIET, waitForEnd } from "./run-commands.ts";
import { finished, MAX_TRIGGER_BYTES, parseTrigger, triggered } from "../../bridges/radicle/ci-trigger.ts";
import { readCiSpec, readFileAt } from "../../bridges/radicle/ci-spec.ts";
import { GitRepo } from "../../bridges/radicle/git-plumbing.ts";
import { RadicleMalformed } from "../../bridges/radicle/errors.ts";

/** The broker writes one JSON line; read up to it (or to the end), never more than the bound. */
async function readTrigger(): Promise<string> {
  let text = "";
  for await (const chunk of process.stdin) {
    text += chunk;
    if (text.length > MAX_TRIGGER_BYTES) throw new RadicleMalformed("trigger", "is larger than 1 MiB");
    const nl = text.indexOf("\n");
    if (nl >= 0) return text.slice(0, nl);
  }
  return text;
}

/** `--storage`, else `$RAD_HOME/storage`, else `~/.radicle/storage`: where heartwood keeps repositories by RID. */
function storageDir(flag: string | undefined): string {
  return flag ?? join(process.env.RAD_HOME ?? join(homedir(), ".radicle"), "storage");
}

export const CI_ADAPTER_COMMANDS: Record<string, Command> = {
  "ci-adapter": {
    usage: "weft ci-adapter [--storage <radicle storage dir>] [--space s] < trigger.json",
    summary: "A radicle-ci-broker adapter: runs a repository's .weft/ci.json test spec on the mesh",
    options: { storage: { type: "string" } },
    async run(_a, v, io) {
      const trigger = parseTrigger(await readTrigger());
      const repo = new GitRepo(join(storageDir(str(v, "storage")), trigger.rid.slice("rad:".length)));
      const spec = await readCiSpec(repo, trigger.commit);
      const space = await resolveSpace(io, v);
      const client = await io.client();
      const artifacts = new ArtifactClient(client);
      const dir = await mkdtemp(join(tmpdir(), "weft-ci-"));
      let pod: Pod;
      try {
        const upload = async (path: string) => {
          const local = join(dir, "files", path);
          await mkdir(dirname(local), { recursive: true });
          await writeFile(local, await readFileAt(repo, trigger.commit, path));
          return (await artifacts.upload(space, local, QUIET)).cid;
        };
        const inputs = [];
        for (const [path, from] of spec.inputs) inputs.push({ path, cid: await upload(from) });
        const run: RunSpec = {
          runner: "wasm",
          program: await upload(spec.program),
          args: spec.args,
          inputs,
          env: [],
          limits: { wallMs: spec.timeout * 1000, memoryMb: spec.memoryMb, outputBytes: 64 * 1024 * 1024 },
        };
        const what = trigger.event === "patch" ? `patch ${trigger.patch}` : `push ${trigger.branch ?? ""}`.trim();
        const { newTaskId } = await import("#protocol/space");
        pod = await client.op<"create", Pod>(space, "create", {
          task: newTaskId(),
          title: `CI ${trigger.rid} ${what} at ${trigger.commit.slice(0, 8)}`.slice(0, 200),
          run,
          idempotencyKey: `radicle-ci ${trigger.rid} ${trigger.commit} ${what}`.slice(0, 128),
        }, { path: `/v1/spaces/${encodeURIComponent(space)}/schedule` });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
      io.out(triggered(pod.task));
      const end = await waitForEnd({ ...io, json: true }, space, pod.task, false);
      io.out(finished(end.state === "succeeded"));
    },
  },
};
