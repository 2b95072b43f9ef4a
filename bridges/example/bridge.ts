/**
 * The example bridge: the smallest bridge that uses the whole plug-in
 * surface. It labels every task in the spaces where it was granted
 * `/weft/task/update/label`, signing each label as its own DID. It reads its
 * `[bridges.example]` table, follows its spaces' events (and access gained
 * or lost), acts through its context, tells a person what to grant when it
 * holds nothing, and on close stops acting and waits for what is in flight.
 */
import type { Bridge, BridgeContext, BridgeEvent, BridgeKind, BridgeSpace } from "#protocol/bridge";
import { InvalidInput } from "#protocol/schema";
import { LABEL } from "#protocol/tasks";
import { Commands } from "#protocol/ucan";

export interface ExampleConfig {
  /** The label it puts on every task. */
  label: string;
}

const DEFAULT_LABEL = "seen-by-bridge";
/** A task in one of these states is finished: the bridge leaves it alone. */
const FINISHED = new Set(["done", "failed", "cancelled"]);

class ExampleBridge implements Bridge {
  readonly #config: ExampleConfig;
  #context?: BridgeContext;
  #unsubscribe?: () => void;
  #closed = false;
  /** Labels being written, by space and task, so one task is labelled once. */
  readonly #inFlight = new Map<string, Promise<void>>();
  /** Spaces it was told it cannot label in (warned once each). */
  readonly #warned = new Set<string>();

  constructor(config: ExampleConfig) {
    this.#config = config;
  }

  start(context: BridgeContext): Promise<void> {
    this.#context = context;
    this.#unsubscribe = context.subscribe((e) => this.#on(e));
    for (const space of context.spaces()) this.#sweep(space);
    return Promise.resolve();
  }

  #on(e: BridgeEvent): void {
    const space = this.#context?.space(e.space);
    if (!space) return;
    if (e.type === "access" || e.type === "members") this.#sweep(space);
    else if (e.type === "tasks") { for (const id of e.tasks) this.#label(space, id); }
  }

  #sweep(space: BridgeSpace): void {
    for (const t of space.tasks()) this.#label(space, t.id);
  }

  #label(space: BridgeSpace, id: string): void {
    const key = `${space.id} ${id}`;
    if (this.#closed || this.#inFlight.has(key)) return;
    const task = space.task(id);
    if (!task || task.labels.includes(this.#config.label) || FINISHED.has(task.status)) return;
    const context = this.#context as BridgeContext;
    if (!space.holds(Commands.taskLabel)) {
      if (!this.#warned.has(space.id)) {
        this.#warned.add(space.id);
        context.log.warn("the example bridge may not label tasks in this space", {
          bridge: context.name,
          space: space.id,
          grant: `weft cap delegate --space ${space.id} --to ${context.did} --command ${Commands.taskLabel}`,
        });
      }
      return;
    }
    this.#warned.delete(space.id);
    const write = space.act("label", { task: task.id, add: [this.#config.label] }).then(
      () => context.log.info("labelled a task", { bridge: context.name, space: space.id, task: task.id }),
      (e) => context.log.warn("could not label a task", { bridge: context.name, task: task.id, error: e.message }),
    ).finally(() => this.#inFlight.delete(key));
    this.#inFlight.set(key, write);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#unsubscribe?.();
    await Promise.allSettled([...this.#inFlight.values()]);
  }
}

export const exampleBridge: BridgeKind<ExampleConfig> = {
  name: "example",
  summary: "labels every unfinished task in its spaces, as its own DID",
  commands: [Commands.taskLabel],
  configure(table) {
    for (const key of Object.keys(table)) {
      if (key !== "label") throw new InvalidInput(key, "is not a setting of the example bridge (it has: label)");
    }
    const label = table.label ?? DEFAULT_LABEL;
    if (typeof label !== "string" || !LABEL.test(label)) {
      throw new InvalidInput("label", "must be a label: 1 to 64 characters, no spaces or commas");
    }
    return { label };
  },
  create: (config) => new ExampleBridge(config),
};
