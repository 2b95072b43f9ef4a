/**
 * Network is a capability, checked on the node that would run the job: in
 * a real space on loopback libp2p, a member holding `/weft/run/container`
 * with the policy `.network == false` asks for a container job with
 * network, and the node with the container runner refuses it (the task
 * stays open with a comment saying why; nothing runs), while the same
 * member's job without network runs. A member whose policy allows
 * `.network == true` gets the network job run, reaching a server on the
 * host; one whose policy allows network only for another image is refused.
 * Without the check the refused jobs would run.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, rmdir } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RunSpec } from "../../protocol/runner/runner.ts";
import { Scheduler } from "../../protocol/scheduler/scheduler.ts";
import type { Space } from "../../protocol/space/space.ts";
import type { TaskView } from "../../protocol/tasks/query.ts";
import { containerPlugin } from "../../bridges/containers/plugin.ts";
import type { ContainerRunner } from "../../bridges/containers/runner.ts";
import { advert } from "../helpers/adverts.ts";
import { MemoryContentStore } from "../helpers/content-store.ts";
import { eventually, libp2pNode, mesh, type TestNode } from "../helpers/nodes.ts";
import { baseImage } from "./base-image.ts";

const CGROUP_PARENT = `weft-test-net-${process.pid}`;
const quiet = { debug() {}, info() {}, warn() {} };

describe("network is a capability", { timeout: 120_000 }, () => {
  let nodes: TestNode[];
  let spaces: Record<"runner" | "plain" | "granted" | "otherImage", Space>;
  let scheduler: Scheduler;
  let runner: ContainerRunner;
  let state: string;
  let server: Server;
  let port: number;
  let image: string;
  const started: string[] = [];

  before(async () => {
    state = await mkdtemp(join(tmpdir(), "weft-net-grant-"));
    server = createServer((s) => s.end("pong\n"));
    port = await new Promise<number>((r) =>
      server.listen(0, "127.0.0.1", () => r((server.address() as { port: number }).port))
    );
    const store = new MemoryContentStore();
    const base = await baseImage();
    image = base.digest;
    await store.put(base.bytes);
    const made = await containerPlugin.create(containerPlugin.parseConfig({ cgroup_parent: CGROUP_PARENT }), {
      stateDir: state,
      log: quiet,
    });
    if ("unavailable" in made) throw new Error(`containers cannot run here: ${made.unavailable}; run .ci/setup`);
    runner = made as ContainerRunner;
    // Unpack the image once before anything is timed.
    const warm = runner.start({ ...job("warm-up", false), args: ["true"] }, store);
    assert.equal((await warm.done).status, "succeeded");

    nodes = await Promise.all(Array.from({ length: 4 }, () => libp2pNode()));
    const [owner, plain, granted, otherImage] = nodes;
    const space = await owner.node.createSpace("net");
    // Each member may sync the space, create tasks and have containers run, under its own policy.
    const invite = async (n: TestNode, name: string, policy: unknown[]) => {
      await space.invite({ audience: n.node.did, command: "/weft/task" });
      await space.invite({ audience: n.node.did, command: "/weft/run/container", policy: policy as never });
      return await owner.node.invite(space.id, { audience: n.node.did, command: "/weft/space/sync", name });
    };
    const invites = [
      await invite(plain, "plain", [["==", ".network", false]]),
      await invite(granted, "granted", [["==", ".network", true]]),
      await invite(otherImage, "other", [["==", ".network", true], ["==", ".program", `sha256:${"0".repeat(64)}`]]),
    ];
    await mesh(nodes);
    const joined = await Promise.all(
      [plain, granted, otherImage].map((n, i) => n.node.join(invites[i], { signal: AbortSignal.timeout(30_000) })),
    );
    spaces = { runner: space, plain: joined[0], granted: joined[1], otherImage: joined[2] };

    scheduler = new Scheduler({
      did: owner.node.did,
      spaces: () => owner.node.spaces(),
      adverts: (s) => owner.node.gossip(s)?.adverts() ?? [],
      runners: [{
        kind: "container",
        available: () => runner.available(),
        start(spec, s) {
          started.push(spec.env[0]?.value ?? "");
          return runner.start(spec, s);
        },
      }],
      store,
      slots: 2,
    });
    await owner.node.gossip(space.id)!.advertise(advert({ runners: ["container"], slots: 2, ttl: 600 }));
    await eventually(() => owner.node.gossip(space.id)!.adverts().length === 1, 10_000, "the runner's advert");
    scheduler.start();
  });

  after(async () => {
    await scheduler?.stop();
    await runner?.close();
    await Promise.all((nodes ?? []).map((n) => n.node.stop()));
    server?.close();
    for (const c of ["memory", "cpu", "pids"]) await rmdir(`/sys/fs/cgroup/${c}/${CGROUP_PARENT}`).catch(() => {});
    await rm(state, { recursive: true, force: true });
  });

  const job = (label: string, network: boolean): RunSpec => ({
    runner: "container",
    program: image,
    args: ["bash", "-c", `exec 3<>/dev/tcp/127.0.0.1/${port} && read -r l <&3 && echo "got $l"`],
    inputs: [],
    env: [{ name: "LABEL", value: label }],
    limits: { wallMs: 60_000, memoryMb: 64, outputBytes: 1 << 20 },
    network,
  });

  /** Submit from `who`'s node; wait, on the node that decides (the one with the runner), for `until`. */
  async function submit(
    who: keyof typeof spaces,
    label: string,
    network: boolean,
    until: (t: TaskView) => boolean,
  ): Promise<TaskView> {
    const task = await spaces[who].createTask({ title: label, run: job(label, network) });
    return (await eventually(
      () => {
        const t = spaces.runner.task(task.id);
        return t && until(t) ? t : undefined;
      },
      60_000,
      label,
    ))!;
  }
  const ended = (t: TaskView) => t.status === "done" || t.status === "failed";
  const refused = (t: TaskView) => t.comments.some((c) => /asks for network/.test(c.body));

  it("refuses network to a member whose /weft/run/container policy says .network == false", async () => {
    const t = await submit("plain", "plain-net", true, refused);
    assert.equal(t.status, "open", "a refused job is not run, and not failed: it runs once the right is granted");
    assert.match(t.comments.map((c) => c.body).join("\n"), /do not allow network for this run/);
    assert.ok(!started.includes("plain-net"), "the job never reached the runner");
  });

  it("runs that member's job without network", async () => {
    const t = await submit("plain", "plain-offline", false, ended);
    assert.equal(t.results.at(-1)?.outcome, "failure", "it ran, and could not reach the host server");
    assert.ok(started.includes("plain-offline"));
  });

  it("runs it for a member whose /weft/run/container policy allows .network == true", async () => {
    const t = await submit("granted", "granted-net", true, ended);
    assert.equal(t.status, "done", JSON.stringify(t.results));
    assert.equal(t.results.at(-1)?.outcome, "success", "the job reached the host server");
    assert.ok(started.includes("granted-net"));
  });

  it("refuses it when the member's policy allows network for another image only", async () => {
    const t = await submit("otherImage", "other-net", true, refused);
    assert.equal(t.status, "open");
    assert.ok(!started.includes("other-net"));
  });
});
