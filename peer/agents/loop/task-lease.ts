/**
 * The agent's hold on the task it works on. A claim is a short lease
 * (`[agents] lease_seconds`), renewed every third of it while the loop
 * works — a long model call, a test run, a wait for a person's approval —
 * so a peer that dies mid-task gives the task back within one lease rather
 * than after the whole time limit. `signal` aborts the moment the lease is
 * no longer the agent's: a renewal refused, the task cancelled or closed, a
 * rival claim that won when a partition healed, or the lease lapsed
 * because renewals did not land in time. The loop stops at once then:
 * whatever it would still sign with that fencing token is refused anyway.
 */
import { WeftError } from "#protocol";
import type { Signer } from "#protocol/identity";
import type { Space } from "#protocol/space";
import { MAX_LEASE_MS, type Task } from "#protocol/tasks";

function checkLength(leaseMs: number): void {
  if (!Number.isInteger(leaseMs) || leaseMs < 1000 || leaseMs > MAX_LEASE_MS) {
    throw new WeftError("InvalidInput", "input/invalid", `a lease runs 1 s to ${MAX_LEASE_MS / 1000} s`);
  }
}

export class TaskLease {
  readonly #space: Space;
  readonly #signer: Signer;
  readonly #task: string;
  readonly #labels: string[];
  readonly #leaseMs: number;
  readonly #lost = new AbortController();
  readonly #unsubscribe: () => void;
  readonly #timer: ReturnType<typeof setInterval>;
  /** The fencing token every later operation on the task names. */
  readonly fence: number;
  /** Unix ms: when the lease lapses unless renewed (the last renewal that landed). */
  #expires: number;
  #renewing = false;
  #closed = false;

  private constructor(space: Space, signer: Signer, task: Task, labels: string[], leaseMs: number) {
    this.#space = space;
    this.#signer = signer;
    this.#task = task.id;
    this.#labels = labels;
    this.#leaseMs = leaseMs;
    this.fence = task.lease!.fence;
    this.#expires = task.lease!.expires;
    this.#unsubscribe = space.subscribe((e) => {
      if (e.type === "tasks" && e.tasks.includes(this.#task)) this.#check();
    });
    this.#timer = setInterval(() => void this.#renew(), Math.max(50, Math.floor(leaseMs / 3)));
    this.#check();
  }

  /** Claim `task` for `signer` with a lease of `leaseMs`, kept until `close`. Throws what the space refused. */
  static async claim(space: Space, signer: Signer, task: Task, labels: string[], leaseMs: number): Promise<TaskLease> {
    checkLength(leaseMs);
    const claimed = await space.actAs(signer, "claim", {
      task: task.id,
      fence: task.fence + 1,
      expires: Date.now() + leaseMs,
      labels,
    });
    const held = space.log.reducer.tasks.get(task.id);
    if (!held?.lease || held.lease.holder !== signer.did || held.lease.fence !== claimed.lease?.fence) {
      throw new WeftError("LeaseLost", "task/conflict", `task ${task.id} was claimed by someone else first`);
    }
    return new TaskLease(space, signer, held, labels, leaseMs);
  }

  /**
   * Take up the live lease `signer` already holds on `task` (this peer
   * stopped while it worked): renewed at once, so a lease the space no
   * longer counts as the agent's is refused here rather than worked under.
   */
  static async adopt(space: Space, signer: Signer, task: Task, labels: string[], leaseMs: number): Promise<TaskLease> {
    checkLength(leaseMs);
    const fence = task.lease?.fence;
    if (fence === undefined || task.lease?.holder !== signer.did) {
      throw new WeftError("LeaseLost", "task/conflict", `task ${task.id} is not held by ${signer.did}`);
    }
    await space.actAs(signer, "renew", { task: task.id, fence, expires: Date.now() + leaseMs, labels });
    return new TaskLease(space, signer, space.log.reducer.tasks.get(task.id)!, labels, leaseMs);
  }

  /** When the lease lapses unless renewed (Unix ms), as far as this node has seen it renewed. */
  get expires(): number {
    return this.#expires;
  }

  /** Aborts (with a `task/conflict` error saying why) once the lease is no longer the agent's. */
  get signal(): AbortSignal {
    return this.#lost.signal;
  }

  /** Stop renewing and watching: the task is being released or finished with this fence. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.#unsubscribe();
  }

  #lose(why: string): void {
    if (this.#closed) return;
    this.close();
    this.#lost.abort(new WeftError("LeaseLost", "task/conflict", `lost its lease on task ${this.#task}: ${why}`));
  }

  /** Is the task, as the space now reduces it, still held by this lease? */
  #check(): void {
    const t = this.#space.log.reducer.tasks.get(this.#task);
    const lease = t?.lease;
    if (!t || (t.status !== "claimed" && t.status !== "running")) {
      this.#lose(`the task is ${t?.status ?? "gone"}`);
    } else if (!lease || lease.holder !== this.#signer.did || lease.fence !== this.fence) {
      this.#lose(`it is held by ${lease?.holder ?? "no one"} (fence ${lease?.fence ?? "-"}) now`);
    } else {
      this.#expires = Math.max(this.#expires, lease.expires);
    }
  }

  async #renew(): Promise<void> {
    if (this.#renewing || this.#closed) return;
    if (Date.now() > this.#expires) return this.#lose("it lapsed before a renewal landed");
    this.#renewing = true;
    try {
      await this.#space.actAs(this.#signer, "renew", {
        task: this.#task,
        fence: this.fence,
        expires: Date.now() + this.#leaseMs,
        labels: this.#labels,
      });
      this.#check();
    } catch (e) {
      this.#lose(`the renewal was refused: ${(e as Error).message}`);
    } finally {
      this.#renewing = false;
    }
  }
}
