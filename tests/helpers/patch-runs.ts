/**
 * Signed runs for patch tests: a run spec of a repository's tests on one
 * commit and the manifest a runner holding /weft/run would sign for it,
 * built with the real provenance code (so the merge gate verifies real
 * signatures, not stand-ins).
 */
import { toHex } from "../../protocol/bytes.ts";
import { buildManifest, type BuiltManifest } from "../../protocol/artifacts/build.ts";
import { rawCid } from "../../protocol/artifacts/digest.ts";
import { RUN_LOG_MEDIA_TYPE } from "../../protocol/artifacts/run-log.ts";
import type { Signer } from "../../protocol/identity/ed25519.ts";
import type { RunSpec, RunStatus } from "../../protocol/runner/runner.ts";
import type { Delegation } from "../../protocol/ucan/delegation.ts";

/** A commit id made of one repeated hex digit pattern, unique per `n`. */
export const commitId = (n: number): string => n.toString(16).padStart(8, "0").repeat(5);

/** The repository's test spec run on `commit`. */
export function testSpec(commit: string, program = "npm-test"): RunSpec {
  return {
    runner: "wasm",
    program,
    args: ["test"],
    inputs: [],
    env: [],
    limits: { wallMs: 60_000, memoryMb: 256, outputBytes: 1 << 20 },
    source: { cid: rawCid(toHex(new Uint8Array(32).fill(7))), commit },
  };
}

/** The manifest `runner` (holding /weft/run through `chain`) signs for a run of `spec` for `task` that ended `status`. */
export function signedRun(
  runner: Signer,
  chain: readonly Delegation[],
  run: { space: string; task: string; spec: RunSpec; status: RunStatus; endedAt: number },
): Promise<BuiltManifest> {
  const sha256 = toHex(new Uint8Array(32).fill(run.status === "succeeded" ? 1 : 2));
  return buildManifest(runner, chain, {
    space: run.space,
    task: run.task,
    spec: run.spec,
    result: {
      status: run.status,
      exitCode: run.status === "succeeded" ? 0 : 1,
      outputs: [],
      startedAt: run.endedAt - 1000,
      endedAt: run.endedAt,
    },
    outputs: [],
    log: {
      size: 10,
      sha256,
      cid: rawCid(sha256),
      mediaType: RUN_LOG_MEDIA_TYPE,
      locations: [{ store: "local", node: runner.did }],
    },
  });
}
