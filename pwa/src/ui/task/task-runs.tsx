/**
 * Runs and artifacts of a task. For a task that asks for compute: the run
 * as the mesh sees it (protocol/scheduler/pods.ts — state, node, times,
 * resources, spec CID) and its log, live while it runs, read from this tab
 * if it runs the job (the capacity offer) or from the node holding it over
 * the sync session this browser has with it (or, with none, through the
 * peer that served the page, model/peer-run-log.ts). Then every result a runner
 * reported (outcome, exit code, summary, fencing token) and the artifact
 * manifests they name, with their provenance status: each manifest (kept
 * here if this tab ran the job, else fetched by CID from the peers it is
 * connected to, checked against the CID) is verified in the browser —
 * signature, statement and the runner's run capability in the space.
 * Each output downloads by CID (from this browser if it has it, else from
 * the mesh, checked against the CID); Stop and Re-run are the Runs view's.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { WeftError } from "#protocol";
import type { LogLine } from "#protocol/runner";
import { podOf, runLog } from "#protocol/scheduler";
import type { Space } from "#protocol/space";
import type { Task, TaskView } from "#protocol/tasks";
import { useAction, useApp } from "../context.ts";
import { RunControls } from "../runs/run-controls.tsx";
import { peerRunLog } from "../../model/peer-run-log.ts";
import { dateTime, mb, who } from "../format.ts";

/** Lines kept on screen; older ones are dropped (the runner keeps its own bounded log). */
const MAX_LINES = 5000;

export function TaskRuns(props: { space: Space; task: TaskView; names: Map<string, string>; me: string }) {
  const { space, task, names, me } = props;
  return (
    <>
      {task.run && <RunFacts space={space} task={task as TaskView & { run: NonNullable<Task["run"]> }} names={names} />}
      {task.results.length === 0
        ? <p class="empty">No run has reported a result for this task.</p>
        : (
          <div class="table-wrap">
            <table>
              <caption class="sr-only">Results reported by runs, oldest first</caption>
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Run by</th>
                  <th scope="col">Outcome</th>
                  <th scope="col">Exit</th>
                  <th scope="col" class="wide">Fence</th>
                  <th scope="col">Summary</th>
                </tr>
              </thead>
              <tbody>
                {task.results.map((r) => (
                  <tr key={r.op}>
                    <td>{dateTime(r.at[0])}</td>
                    <td>{who(r.by, names, me)}</td>
                    <td>
                      <span class={`status ${r.outcome === "success" ? "s-done" : "s-failed"}`}>{r.outcome}</span>
                    </td>
                    <td>{r.exitCode ?? "—"}</td>
                    <td class="wide">{r.fence}</td>
                    <td>{r.summary ?? ""}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      {task.run && (
        <>
          <h3 id="log-title">Log</h3>
          <RunLogView space={space} task={task} />
        </>
      )}
      <h3>Artifacts</h3>
      <Artifacts space={space} task={task} />
    </>
  );
}

function RunFacts(
  props: { space: Space; task: TaskView & { run: NonNullable<Task["run"]> }; names: Map<string, string> },
) {
  const { bn } = useApp();
  const local = bn.offer.scheduler?.run(props.space.id, props.task.id);
  const pod = podOf(props.space.id, props.task, Date.now(), local);
  return (
    <dl class="facts" data-pod-state={pod.state}>
      <dt>Run</dt>
      <dd>
        <span class="tag">{pod.state}</span>
        {pod.node && ` on ${who(pod.node, props.names, bn.did)}`}
        {local && <span class="tag">this tab</span>}
      </dd>
      <dt>Control</dt>
      <dd>
        <RunControls space={props.space} task={props.task} state={pod.state} open />
      </dd>
      <dt>Program</dt>
      <dd>
        {pod.runner} <code>{pod.program}</code>
      </dd>
      <dt>Spec</dt>
      <dd>
        <code>{pod.spec}</code>
      </dd>
      <dt>Limits</dt>
      <dd>
        {mb(pod.resources.memoryMb)}, {pod.resources.wallMs / 1000} s wall time
        {pod.resources.cpu > 0 && `, ${pod.resources.cpu} cores`}
        {pod.resources.gpu > 0 && `, ${pod.resources.gpu} GPUs`}
        {pod.resources.tags.length > 0 && `, tags ${pod.resources.tags.join(" ")}`}
      </dd>
      {pod.startedAt !== undefined && (
        <>
          <dt>Started</dt>
          <dd>{dateTime(pod.startedAt)}</dd>
        </>
      )}
      {pod.endedAt !== undefined && (
        <>
          <dt>Ended</dt>
          <dd>{dateTime(pod.endedAt)}</dd>
        </>
      )}
      {local?.reason && (
        <>
          <dt>Here</dt>
          <dd>{local.reason}</dd>
        </>
      )}
    </dl>
  );
}

type LogState = "waiting" | "reading" | "following" | "ended" | "unavailable";

/**
 * The run's log: read once the task is placed, followed while it runs,
 * read again when the holder changes or becomes reachable.
 */
export function RunLogView(props: { space: Space; task: TaskView; labelledBy?: string }) {
  const { bn } = useApp();
  const { space, task } = props;
  const [lines, setLines] = useState<LogLine[]>([]);
  const [state, setState] = useState<LogState>("waiting");
  const [why, setWhy] = useState("");
  const box = useRef<HTMLPreElement>(null);
  const scheduler = bn.offer.scheduler;
  const local = scheduler?.run(space.id, task.id);
  const where = task.lease?.holder ?? task.results.at(-1)?.by;
  const live = task.effectiveStatus === "claimed" || task.effectiveStatus === "running";
  const reachable = local !== undefined || (where !== undefined && bn.node.sessionTo(where) !== undefined);
  const placed = where !== undefined;

  useEffect(() => {
    setLines([]);
    setWhy("");
    if (!placed) {
      setState("waiting");
      return;
    }
    const controller = new AbortController();
    let pending: LogLine[] = [];
    let timer: ReturnType<typeof setTimeout> | undefined;
    const flush = () => {
      timer = undefined;
      const add = pending;
      pending = [];
      setLines((old) => {
        const all = old.concat(add);
        return all.length > MAX_LINES ? all.slice(-MAX_LINES) : all;
      });
    };
    setState(live ? "following" : "reading");
    void (async () => {
      try {
        // A run on a node this browser is not connected to: through the peer that served the page.
        const lines = reachable ? runLog(bn.node, scheduler, space.id, task, live, controller.signal) : peerRunLog(
          { did: bn.did, signer: bn.node.signer },
          space,
          location.origin,
          task.id,
          live,
          controller.signal,
        );
        for await (const line of lines) {
          pending.push(line);
          timer ??= setTimeout(flush, 50);
        }
        if (!controller.signal.aborted) setState("ended");
      } catch (e) {
        if (controller.signal.aborted) return;
        setState("unavailable");
        setWhy((e as Error).message);
      } finally {
        clearTimeout(timer);
        if (!controller.signal.aborted) flush();
      }
    })();
    return () => controller.abort();
  }, [space.id, task.id, where, task.fence, live, reachable, scheduler]);

  useEffect(() => {
    const el = box.current;
    if (el && state === "following") el.scrollTop = el.scrollHeight;
  }, [lines, state]);

  const said = {
    waiting: "No node has taken this run yet; its log appears here once one does.",
    reading: "Reading the log…",
    following: "Following the log live.",
    ended: lines.length === 0 ? "The run wrote nothing to its log." : "End of log.",
    unavailable: `The log is not available here: ${why}`,
  }[state];
  return (
    <div class="stack">
      <p class="hint" role="status" data-log-state={state}>{said}</p>
      {lines.length > 0 && (
        <pre class="log" ref={box} role="log" aria-labelledby={props.labelledBy ?? "log-title"} tabIndex={0}>
          {lines.map((l, i) => (
            <span key={i} class={`ll ${l.stream}`}>
              {l.stream === "system" ? `[weft] ${l.text}` : l.text}
              {"\n"}
            </span>
          ))}
        </pre>
      )}
    </div>
  );
}

type Provenance =
  | { state: "checking" }
  | {
    state: "verified";
    mine: boolean;
    runner: string;
    outputs: { path: string; size: number; cid: string; mediaType: string }[];
  }
  | { state: "invalid"; why: string }
  | { state: "unchecked" };

function Artifacts(props: { space: Space; task: TaskView }) {
  const manifests = props.task.results.filter((r) => r.manifest !== undefined);
  if (manifests.length === 0) return <p class="empty">No result names an artifact manifest.</p>;
  return (
    <ul class="plain stack">
      {manifests.map((r) => <ManifestItem key={r.op} space={props.space} cid={r.manifest!} />)}
    </ul>
  );
}

function ManifestItem(props: { space: Space; cid: string }) {
  const { bn } = useApp();
  const [p, setP] = useState<Provenance>({ state: "checking" });
  useEffect(() => {
    let gone = false;
    void (async () => {
      const record = await bn.db.get("manifests", props.cid);
      const bytes = record?.bytes ??
        await bn.node.fetchBlob(props.cid, AbortSignal.timeout(15_000)).catch(() => undefined);
      if (!bytes) return { state: "unchecked" } as const;
      try {
        const { verifyManifest } = await import("#protocol/artifacts");
        const v = await verifyManifest(props.cid, bytes, { validator: props.space.authority.validator });
        return {
          state: "verified",
          mine: v.manifest.runner.did === bn.node.did,
          runner: v.manifest.runner.did,
          outputs: v.manifest.outputs.map((o) => ({ path: o.path, size: o.size, cid: o.cid, mediaType: o.mediaType })),
        } as const;
      } catch (e) {
        return { state: "invalid", why: (e as Error).message } as const;
      }
    })().then((next) => !gone && setP(next));
    return () => {
      gone = true;
    };
  }, [props.cid, props.space]);
  return (
    <li data-manifest={props.cid}>
      manifest <code>{props.cid}</code> <ProvenanceBadge p={p} />
      {p.state === "verified" && p.outputs.length > 0 && (
        <ul>
          {p.outputs.map((o) => (
            <li key={o.path}>
              <code>{o.path}</code> ({o.size} bytes) <code class="hint">{o.cid}</code>{" "}
              <Download cid={o.cid} name={o.path} type={o.mediaType} />
            </li>
          ))}
        </ul>
      )}
    </li>
  );
}

/** Save an output: its bytes by CID from here or the mesh (checked against the CID on arrival). */
function Download(props: { cid: string; name: string; type: string }) {
  const { bn } = useApp();
  const { busy, run } = useAction();
  return (
    <button
      type="button"
      class="link"
      data-download={props.name}
      disabled={busy}
      onClick={() =>
        void run(async () => {
          const bytes = await bn.db.get("blobs", props.cid) ??
            await bn.node.fetchBlob(props.cid, AbortSignal.timeout(60_000));
          if (!bytes) {
            throw new WeftError(
              "NotFound",
              "artifact/unreachable",
              `no connected node has ${props.name} (${props.cid}) right now: connect to the node that ran it`,
            );
          }
          const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: props.type }));
          const a = document.createElement("a");
          a.href = url;
          a.download = props.name.split("/").at(-1)!;
          a.click();
          setTimeout(() => URL.revokeObjectURL(url), 60_000);
        })}
    >
      Download
    </button>
  );
}

function ProvenanceBadge(props: { p: Provenance }) {
  const { p } = props;
  if (p.state === "checking") return <span class="badge" data-provenance="checking">checking provenance…</span>;
  if (p.state === "verified") {
    return (
      <span class="badge open" data-provenance="verified">
        provenance verified: signed by {p.mine ? "this device" : <code>{p.runner}</code>}, which held the run capability
      </span>
    );
  }
  if (p.state === "invalid") {
    return <span class="badge bad" data-provenance="invalid">provenance does not verify: {p.why}</span>;
  }
  return (
    <span class="badge warn" data-provenance="unchecked">
      provenance not checked: no connected peer has this manifest right now
    </span>
  );
}
