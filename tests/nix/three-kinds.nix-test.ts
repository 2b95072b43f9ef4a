/**
 * Jobs land only where their kind runs, across three real peer processes:
 * one runs Nix (no containers), one runs containers (no Nix), one runs
 * neither. From the one with neither, with the stock CLI, a Nix build of a
 * project goes to the Nix peer, and a container job on the Debian base
 * image (imported on the submitting peer, 61 MB, fetched over the mesh in
 * pieces) goes to the container peer; both succeed.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Pod } from "../../protocol/scheduler/pods.ts";
import { eventually } from "../helpers/nodes.ts";
import { joinPeer, type PeerProcess, startPeer, stopPeer, weft } from "../helpers/peer-process.ts";
import { BASE_IMAGE_PATH } from "../containers/base-image.ts";
import { removeProjects, WORDS_PROJECT, writeProject } from "./projects.ts";

const FAST = { WEFT_LEASE_SECONDS: "5", WEFT_ADVERTISE_SECONDS: "2", WEFT_SLOTS: "2" };

/** A peer whose weft.toml turns the given runner kinds off. */
async function peerWithout(...kinds: string[]): Promise<PeerProcess> {
  const home = await mkdtemp(join(tmpdir(), "weft-proc-"));
  await writeFile(join(home, "weft.toml"), kinds.map((k) => `[runners.${k}]\nenabled = false\n`).join(""));
  return await startPeer(FAST, home);
}

describe("three peers, three kinds of runner", { timeout: 400_000 }, () => {
  let neither: PeerProcess;
  let nix: PeerProcess;
  let containers: PeerProcess;
  let space: string;
  const names: Record<string, string> = {};

  before(async () => {
    // One after the other: peers starting at once on a busy 2-core machine can pass the helper's 30 s.
    neither = await peerWithout("nix", "container");
    nix = await peerWithout("container");
    containers = await peerWithout("nix");
    space = await joinPeer(neither, nix);
    await joinPeer(neither, containers, space);
    for (const [name, p] of [["neither", neither], ["nix", nix], ["containers", containers]] as const) {
      names[await weft(p, "id")] = name;
    }
    const runners = await eventually(
      async () => {
        const r = await (await neither.api()).get<{ nodes: Array<{ node: string; runners: string[] }> }>(
          "/v1/capacity",
        );
        return r.nodes.length === 3 ? Object.fromEntries(r.nodes.map((n) => [names[n.node], n.runners])) : undefined;
      },
      30_000,
      "three capacity adverts",
    );
    assert.deepEqual(runners!.neither, ["wasm"]);
    assert.deepEqual(runners!.nix, ["wasm", "nix"]);
    assert.deepEqual(runners!.containers, ["wasm", "container"]);
  });

  after(async () => {
    await Promise.all([neither, nix, containers].filter((p) => p).map((p) => stopPeer(p)));
    removeProjects();
  });

  it("a Nix build submitted where nothing can build it runs on the Nix peer", async () => {
    const project = writeProject(WORDS_PROJECT);
    const done = JSON.parse(await weft(neither, "run", project, "--wait", "--json", "--space", space)) as Pod;
    assert.equal(done.state, "succeeded", done.summary);
    assert.equal(names[done.node!], "nix");
  });

  it("a container job on an image imported where containers cannot run runs on the container peer", async () => {
    const done = JSON.parse(
      await weft(
        neither,
        "run",
        BASE_IMAGE_PATH,
        "--runner",
        "container",
        "--wait",
        "--json",
        "--space",
        space,
        "--",
        "bash",
        "-c",
        "echo ran in $(cat /etc/debian_version | cut -c1-2)",
      ),
    ) as Pod;
    assert.equal(done.state, "succeeded", done.summary);
    assert.equal(names[done.node!], "containers");
    assert.match(await weft(neither, "logs", done.task, "--space", space), /ran in 12/);
  });
});
