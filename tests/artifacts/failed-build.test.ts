/**
 * A failed build through a real daemon: a WASM job that exits 1 having
 * written no file still gets a signed manifest whose in-toto statement has
 * a subject (in-toto requires one): the run's log, by digest, kept in the
 * peer's artifact store and readable and checkable like any output.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { RUN_LOG_MEDIA_TYPE, RUN_LOG_SUBJECT } from "../../protocol/artifacts/run-log.ts";
import { fromUtf8 } from "../../protocol/bytes.ts";
import type { Pod } from "../../protocol/scheduler/pods.ts";
import { newTaskId } from "../../protocol/space/space.ts";
import { sampleSpec } from "../../wasm-runners/samples/build.ts";
import { type TestDaemon, testDaemon } from "../helpers/daemon.ts";
import { eventually } from "../helpers/nodes.ts";

const enc = encodeURIComponent;

describe("a failed build", () => {
  let d: TestDaemon;
  let space: string;

  before(async () => {
    d = await testDaemon();
    const { spaces } = await d.client.get<{ spaces: Array<{ id: string }> }>("/v1/spaces");
    space = spaces[0].id;
  });
  after(async () => {
    await d?.stop();
  });

  it("attests its log: the statement's one subject, kept and verified like an output", async () => {
    // `sleep` exits 1 with a usage line, writing no file, when its argument is not a number.
    const run = await sampleSpec(d.daemon.artifacts.local, "sleep", { args: ["soon"], limits: { wallMs: 30_000 } });
    const scheduled = await d.client.op<"create", Pod>(space, "create", { task: newTaskId(), title: "fails", run }, {
      path: `/v1/spaces/${enc(space)}/schedule`,
    });
    const done = await eventually(
      async () => {
        const p = await d.client.get<Pod>(`/v1/spaces/${enc(space)}/pods/${scheduled.task}`);
        return p.state === "failed" || p.state === "succeeded" ? p : undefined;
      },
      60_000,
      "the build finished",
    );
    assert.equal(done!.state, "failed", done!.summary);
    assert.ok(done!.manifest, "a failed run records a manifest too");

    const v = await d.daemon.artifacts.manifest(space, done!.manifest!);
    assert.equal(v.manifest.status, "failed");
    assert.deepEqual(v.manifest.outputs, []);
    const log = v.manifest.log!;
    assert.ok(log, "the manifest names the run's log");
    assert.deepEqual(v.statement.subject, [
      { name: RUN_LOG_SUBJECT, digest: { sha256: log.sha256 }, mediaType: RUN_LOG_MEDIA_TYPE },
    ]);

    const bytes = await d.daemon.artifacts.local.get(log.cid);
    assert.ok(bytes, "the log is in the peer's artifact store");
    assert.equal(createHash("sha256").update(bytes).digest("hex"), log.sha256);
    const lines = fromUtf8(bytes).trim().split("\n").map((l) => JSON.parse(l));
    assert.ok(lines.some((l) => l.stream === "stderr" && l.text === "usage: sleep MS"), fromUtf8(bytes));

    const checked = await d.daemon.artifacts.verify(space, done!.manifest!);
    assert.equal(checked.ok, true, JSON.stringify(checked));
    assert.deepEqual(checked.outputs.map((o) => [o.path, o.ok]), [[RUN_LOG_SUBJECT, true]]);
  });
});
