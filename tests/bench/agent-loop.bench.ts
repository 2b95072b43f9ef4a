/**
 * `agent-loop`: one agent task from claimed to patch proposed on one peer,
 * driven by the recorded model (tests/fixtures/agent-loop/fix-add.json —
 * a scripted server replaying a recorded conversation, not a live model),
 * split by where the time goes (the loop's own timings: model, editing,
 * testing, pushing, proposing). Baselines from the same run: the same
 * recorded calls made directly to the model server (model), and the test
 * job's own run time in the container runner (testing: the rest is packing,
 * upload, scheduling and reading the log); the whole pass against their sum.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readFileSync } from "node:fs";
import { stopPeer, weft } from "../helpers/peer-process.ts";
import { startRecordedModel } from "../helpers/recorded-model-server.ts";
import { llmToml, LOOP_FIXTURES, peerWith, seedDemoRepo, weftJson } from "../helpers/agent-loop-rig.ts";
import { report } from "./report.ts";

const BENCH = "agent-loop";
const ROUNDS = 3;
const enc = encodeURIComponent;
const recording = join(LOOP_FIXTURES, "fix-add.json");
const model = await startRecordedModel(recording);
const work = await mkdtemp(join(tmpdir(), "weft-loop-bench-"));
const peer = await peerWith(llmToml(model.url, "recorded-fix"));
try {
  const space = JSON.parse(await weft(peer, "space", "list", "--json")).spaces[0].id as string;
  await seedDemoRepo(work, peer, space);
  await weftJson(peer, ...["agent", "add", "fixer", "--labels", "bug", "--budget", "5usd", "--runners", "container"]);
  const api = await peer.api();
  const replies = (JSON.parse(readFileSync(recording, "utf8")) as { replies: string[] }).replies;
  const sums: Record<string, number> = {};
  let total = 0, direct = 0, job = 0;
  for (let i = 0; i < ROUNDS; i++) {
    await weftJson(peer, "task", "add", `add 2 3 should be 5 (#${i})`, "--label", "bug", "--label", "repo:demo");
    const started = performance.now();
    const r = await api.request<{ timings: Record<string, number>; job: string; outcome: { kind: string } }>(
      "POST",
      `/v1/spaces/${enc(space)}/agents/fixer/run`,
      {},
    );
    total += performance.now() - started;
    if (r.outcome.kind !== "proposed") throw new Error(`round ${i}: ${JSON.stringify(r.outcome)}`);
    for (const [k, ms] of Object.entries(r.timings)) sums[k] = (sums[k] ?? 0) + ms;
    const pod = await api.get<{ startedAt: number; endedAt: number }>(`/v1/spaces/${enc(space)}/pods/${r.job}`);
    job += pod.endedAt - pod.startedAt;
    // The same model calls, made directly: one streamed request per recorded reply.
    const t0 = performance.now();
    const messages: { role: string; content: string }[] = [{ role: "user", content: "fix add" }];
    for (const reply of replies) {
      const res = await fetch(`${model.url}/chat/completions`, {
        method: "POST",
        body: JSON.stringify({ model: "recorded-fix", messages, stream: true }),
      });
      await res.text();
      messages.push({ role: "assistant", content: reply });
    }
    direct += performance.now() - t0;
  }
  const per = (x: number) => x / ROUNDS;
  report({
    bench: BENCH,
    metric: "claimed-to-proposed",
    value: per(total),
    unit: "ms",
    baseline: per(direct + job),
    note: "baseline: direct model calls + the test job's run time",
  });
  report({
    bench: BENCH,
    metric: "model",
    value: per(sums.thinking ?? 0),
    unit: "ms",
    baseline: per(direct),
    note: "baseline: the same calls made directly",
  });
  report({
    bench: BENCH,
    metric: "testing",
    value: per(sums.testing ?? 0),
    unit: "ms",
    baseline: per(job),
    note: "baseline: the job's own run time in the container runner",
  });
  for (const step of ["claiming", "editing", "pushing", "proposing"]) {
    report({ bench: BENCH, metric: step, value: per(sums[step] ?? 0), unit: "ms", baseline: null });
  }
} finally {
  model.stop();
  await stopPeer(peer);
  await rm(work, { recursive: true, force: true });
}
