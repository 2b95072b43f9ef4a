/**
 * Starting a run from the browser: a runner kind the space's nodes offer,
 * a program (a file chosen here, or a CID or the backend's reference — a
 * flake output, an image digest), its arguments, input files (chosen here,
 * or by CID, e.g. a source tree `weft run` packed), environment and limits.
 * Files chosen here are kept in this browser by CID and served to the node
 * that runs the job. One signed create; a retried submit carries the same
 * idempotency key, so it never makes a second run.
 */
import { useRef, useState } from "preact/hooks";
import type { Space } from "#protocol/space";
import { WeftError } from "#protocol";
import { Commands } from "#protocol/ucan";
import { can } from "../../model/can.ts";
import { navigate, taskHref } from "../../model/route.ts";
import { parseArgs, parseEnv, runnerKinds, storeFile, submitRun } from "../../model/runs.ts";
import { idbContentStore } from "../../node/blob-store.ts";
import { useAction, useApp } from "../context.ts";
import { missing } from "../why-not.ts";

/** `path=CID` lines: inputs already in the mesh. */
function cidInputs(text: string): { path: string; cid: string }[] {
  return text.split("\n").map((l) => l.trim()).filter(Boolean).map((line) => {
    const eq = line.indexOf("=");
    if (eq <= 0) throw new WeftError("InvalidInput", "input/run", `input "${line}" is not path=CID`);
    return { path: line.slice(0, eq), cid: line.slice(eq + 1) };
  });
}

export function StartRun(props: { space: Space }) {
  const { bn } = useApp();
  const { busy, run } = useAction();
  const key = useRef(crypto.randomUUID());
  const form = useRef<HTMLFormElement>(null);
  const [source, setSource] = useState<"file" | "reference">("file");
  if (!can(props.space, bn.did, Commands.taskCreate)) {
    return <p class="hint">You cannot start runs here: {missing(props.space, bn.did, Commands.taskCreate)}.</p>;
  }
  const kinds = runnerKinds(bn.capacity.adverts(props.space.id));
  const value = (id: string) => (form.current?.querySelector(`#${id}`) as HTMLInputElement | null)?.value ?? "";
  const files = (id: string) => [...((form.current?.querySelector(`#${id}`) as HTMLInputElement | null)?.files ?? [])];
  return (
    <details class="start-run">
      <summary>Start a run</summary>
      <form
        ref={form}
        class="stack"
        aria-labelledby="start-run-title"
        onSubmit={(e) => {
          e.preventDefault();
          void run(async () => {
            const store = idbContentStore(bn.db);
            const [programFile] = files("run-program-file");
            let program = value("run-program").trim();
            if (source === "file") {
              if (!programFile) {
                throw new WeftError(
                  "InvalidInput",
                  "input/run",
                  "choose the program's file, or give its CID or reference",
                );
              }
              program = await storeFile(store, programFile);
            } else if (!program) {
              throw new WeftError(
                "InvalidInput",
                "input/run",
                "give the program's CID or reference, or choose its file",
              );
            }
            const inputs = cidInputs(value("run-input-cids"));
            for (const f of files("run-input-files")) inputs.push({ path: f.name, cid: await storeFile(store, f) });
            const task = await submitRun(props.space, {
              runner: value("run-kind"),
              title: value("run-title"),
              program,
              args: parseArgs(value("run-args")),
              inputs,
              env: parseEnv(value("run-env")),
              wallSeconds: Number(value("run-wall")),
              memoryMb: Number(value("run-memory")),
              outputMb: Number(value("run-output")),
              tags: value("run-tags").split(/[\s,]+/).filter(Boolean),
            }, key.current);
            key.current = crypto.randomUUID();
            navigate(taskHref(props.space.id, task.id));
          }, "Run submitted");
        }}
      >
        <h2 id="start-run-title" class="sr-only">Start a run</h2>
        <div class="row wrap">
          <label>
            <span>Kind</span>{" "}
            <select id="run-kind">
              {kinds.map((k) => <option key={k} value={k}>{k}</option>)}
            </select>
          </label>
          <label>
            <span>Title</span> <input id="run-title" maxLength={200} placeholder="optional" />
          </label>
        </div>
        <fieldset>
          <legend>Program</legend>
          <label>
            <input
              type="radio"
              name="run-source"
              checked={source === "file"}
              onChange={() => setSource("file")}
            />{" "}
            a file from this device
          </label>{" "}
          <label>
            <input
              type="radio"
              name="run-source"
              id="run-source-reference"
              checked={source === "reference"}
              onChange={() => setSource("reference")}
            />{" "}
            a CID or reference (flake output, image digest)
          </label>
          {source === "file"
            ? <input id="run-program-file" type="file" aria-label="Program file" />
            : <input id="run-program" maxLength={512} aria-label="Program CID or reference" />}
        </fieldset>
        <label for="run-args">Arguments, one per line</label>
        <textarea id="run-args" rows={2} />
        <label for="run-input-files">Input files (placed under their names, read-only)</label>
        <input id="run-input-files" type="file" multiple />
        <label for="run-input-cids">
          Inputs already in the mesh, one path=CID per line (e.g. a packed source tree)
        </label>
        <textarea id="run-input-cids" rows={2} />
        <label for="run-env">Environment, one NAME=value per line</label>
        <textarea id="run-env" rows={2} />
        <div class="row wrap">
          <label>
            <span>Wall time (s)</span> <input id="run-wall" type="number" min={1} max={604800} defaultValue="600" />
          </label>
          <label>
            <span>Memory (MB)</span> <input id="run-memory" type="number" min={1} max={1048576} defaultValue="512" />
          </label>
          <label>
            <span>Output (MB)</span> <input id="run-output" type="number" min={0} max={1048576} defaultValue="64" />
          </label>
          <label>
            <span>Tags</span> <input id="run-tags" placeholder="e.g. browser, !ephemeral" />
          </label>
        </div>
        <div>
          <button type="submit" disabled={busy}>Start run</button>
        </div>
      </form>
    </details>
  );
}
