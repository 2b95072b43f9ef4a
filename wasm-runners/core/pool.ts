/**
 * Hands out sandbox processes, one per job, keeping one spare started ahead
 * so that a job does not wait for a process to load. A process is never
 * reused: each job gets a fresh one, killed when the job ends. The next
 * spare is started when a job's process ends, not while the job runs, so it
 * does not compete with the job for the CPU.
 */
import type { SandboxBackend, SandboxProcess } from "./backend.ts";

export class SandboxPool {
  readonly #backend: SandboxBackend;
  readonly #heapMb: number;
  readonly #warm: boolean;
  #spare?: SandboxProcess;
  #closed = false;

  constructor(backend: SandboxBackend, heapMb: number, warm: boolean) {
    this.#backend = backend;
    this.#heapMb = heapMb;
    this.#warm = warm;
  }

  /** A process for one job: the spare if there is one. */
  acquire(): SandboxProcess {
    const process = this.#spare ?? this.#backend.spawn(this.#heapMb);
    process.setKeepAlive(true);
    this.#spare = undefined;
    process.exited.then(() => {
      if (this.#warm && !this.#spare) this.#startSpare();
    });
    return process;
  }

  /** Start the spare now (if warm) and wait until it can take a job. */
  async warmUp(): Promise<void> {
    if (!this.#warm || this.#closed) return;
    if (!this.#spare) this.#startSpare();
    const spare = this.#spare!;
    spare.setKeepAlive(true);
    try {
      await spare.ready;
    } finally {
      if (this.#spare === spare) spare.setKeepAlive(false);
    }
  }

  #startSpare(): void {
    if (this.#closed) return;
    const spare = this.#backend.spawn(this.#heapMb);
    spare.setKeepAlive(false);
    spare.ready.catch(() => {});
    spare.exited.then(() => {
      if (this.#spare === spare) this.#spare = undefined;
    });
    this.#spare = spare;
  }

  async close(): Promise<void> {
    this.#closed = true;
    const spare = this.#spare;
    this.#spare = undefined;
    await spare?.kill();
  }
}
