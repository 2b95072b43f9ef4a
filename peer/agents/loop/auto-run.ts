/**
 * Agents the daemon runs by itself: those weft.toml names (`[agents] run`)
 * and those made with `weft agent add --run`. Each gets one driver that
 * starts with the daemon and runs the loop's passes back to back: a task
 * it still held when the peer stopped is taken up again under its lease
 * (or, once that lapsed, claimed again like any open task); with nothing
 * to do it sleeps until the space changes (a new task, a label, a
 * repository) or a bounded wait passes (a lease lapsing elsewhere changes
 * nothing it can hear of). A paused or revoked agent stops at once (its
 * kill switch) and waits for a resume; a stopping daemon ends the pass in
 * flight without giving its task back, so the restart takes it up again.
 */
import { WeftError } from "#protocol";
import type { WeftNode } from "#protocol/node";
import type { Space, SpaceEvent } from "#protocol/space";
import type { PeerAgents } from "../peer-agents.ts";
import type { AgentLoops } from "./agent-loop.ts";

/** The longest an idle agent sleeps before it looks again without being woken. */
export const IDLE_WAIT_MS = 30_000;
/** After a pass that failed outright (not a task's failure: the loop itself), wait this long before the next. */
const ERROR_WAIT_MS = 10_000;
/** The least time between two idle passes. */
const WAKE_GAP_MS = 250;

export interface AutoRunDeps {
  node: WeftNode;
  agents: PeerAgents;
  loops: AgentLoops;
  /** `[agents] run`: names whose loops start with the daemon. */
  configured: readonly string[];
  warn(message: string, fields: Record<string, unknown>): void;
}

/** What the driver of one agent is doing, for `weft agent status`. */
export type DriverState = "working" | "idle" | "paused" | "waiting" | "ended";

export class AgentAutoRun {
  readonly #d: AutoRunDeps;
  readonly #stop = new AbortController();
  readonly #drivers = new Map<string, { state: DriverState; why?: string; done: Promise<void> }>();

  constructor(deps: AutoRunDeps) {
    this.#d = deps;
  }

  /** Start a driver for every agent that should run here. */
  async start(): Promise<void> {
    const mine = await this.#d.agents.list();
    for (const name of this.#d.configured) {
      if (!mine.some((r) => r.name === name)) {
        this.#d.warn("[agents] run names an agent this peer does not run; make it with weft agent add", { name });
      }
    }
    for (const r of mine) if (r.run || this.#d.configured.includes(r.name)) this.add(r.name);
  }

  /** Run agent `name` by itself from now on (a no-op if it already is). */
  add(name: string): void {
    if (this.#drivers.has(name) || this.#stop.signal.aborted) return;
    const driver = { state: "waiting" as DriverState, why: undefined as string | undefined, done: Promise.resolve() };
    this.#drivers.set(name, driver);
    driver.done = this.#drive(name, driver).catch((e) => {
      driver.state = "ended";
      driver.why = (e as Error).message;
      this.#d.warn("an agent's loop ended", { agent: name, error: (e as Error).message });
    });
  }

  /** Is agent `name` run by itself here, and what is its driver doing? */
  state(name: string): { state: DriverState; why?: string } | undefined {
    const d = this.#drivers.get(name);
    return d && { state: d.state, ...(d.why !== undefined ? { why: d.why } : {}) };
  }

  /** End every pass in flight (their tasks are kept, to be taken up again on restart) and wait for them. */
  async stop(): Promise<void> {
    this.#stop.abort(new WeftError("PeerStopping", "agent/stopped", "this peer is stopping"));
    await Promise.all([...this.#drivers.values()].map((d) => d.done));
  }

  async #drive(name: string, driver: { state: DriverState; why?: string }): Promise<void> {
    const { agents, node, loops } = this.#d;
    const stop = this.#stop.signal;
    const record = await agents.require(name);
    const space = node.space(record.space);
    if (!space) throw new WeftError("NotFound", "not-found", `this peer is not in space ${record.space}`);
    const kill = agents.kill(space, record.did);
    while (!stop.aborted) {
      const why = kill.stopped();
      if (why) {
        driver.state = "paused";
        driver.why = why;
        await wake(space, stop, (e) => e.type === "agents" || e.type === "members", IDLE_WAIT_MS);
        continue;
      }
      driver.state = "working";
      driver.why = undefined;
      let outcome: string;
      try {
        outcome = (await loops.runOnce(name, loops.limits, stop)).outcome?.kind ?? "failed";
      } catch (e) {
        if (stop.aborted) return;
        this.#d.warn("an agent's pass failed", { agent: name, error: (e as Error).message });
        driver.state = "waiting";
        driver.why = (e as Error).message;
        await sleep(ERROR_WAIT_MS, stop);
        continue;
      }
      if (outcome === "idle") {
        driver.state = "idle";
        // New work wakes it; so does a pause or a revocation, so that its state says so at once.
        await wake(space, stop, (e) => ["tasks", "objects", "agents", "members"].includes(e.type), IDLE_WAIT_MS);
        // A burst of changes wakes it once, not once per change.
        await sleep(WAKE_GAP_MS, stop);
      }
    }
  }
}

/** Resolve on the first space event `wanted` accepts, after `maxMs`, or when `stop` fires. */
function wake(space: Space, stop: AbortSignal, wanted: (e: SpaceEvent) => boolean, maxMs: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      unsubscribe();
      stop.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, maxMs);
    const unsubscribe = space.subscribe((e) => {
      if (wanted(e)) done();
    });
    stop.addEventListener("abort", done, { once: true });
    if (stop.aborted) done();
  });
}

const sleep = (ms: number, stop: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      stop.removeEventListener("abort", done);
      resolve();
    }
    stop.addEventListener("abort", done, { once: true });
  });
