/**
 * Gets a program ready for a sandbox: transpiled (cached by CID), its
 * memories capped at the run's limit, and — when the sandbox shares this
 * process's engine — compiled, so a warm run skips compilation. Ready
 * programs are kept per (CID, memory limit).
 */
import { capMemories, type MemoryCap } from "./memory-cap.ts";
import type { Transpiler } from "./transpile.ts";

export interface ReadyProgram {
  glue: string;
  modules: [string, WebAssembly.Module | Uint8Array][];
  memories: [string, MemoryCap[]][];
}

export class Programs {
  readonly #transpiler: Transpiler;
  readonly #compile: boolean;
  readonly #capacity: number;
  readonly #ready = new Map<string, Promise<ReadyProgram>>();

  constructor(transpiler: Transpiler, compile: boolean, capacity = 16) {
    this.#transpiler = transpiler;
    this.#compile = compile;
    this.#capacity = capacity;
  }

  get(cid: string, memoryMb: number, fetch: () => Promise<Uint8Array>): Promise<ReadyProgram> {
    const key = `${cid}@${memoryMb}`;
    const hit = this.#ready.get(key);
    if (hit) {
      this.#ready.delete(key);
      this.#ready.set(key, hit);
      return hit;
    }
    const pending = this.#prepare(cid, memoryMb, fetch);
    this.#ready.set(key, pending);
    pending.catch(() => this.#ready.delete(key));
    while (this.#ready.size > this.#capacity) this.#ready.delete(this.#ready.keys().next().value!);
    return pending;
  }

  async #prepare(cid: string, memoryMb: number, fetch: () => Promise<Uint8Array>): Promise<ReadyProgram> {
    const t = await this.#transpiler.get(cid, fetch);
    const capped = capMemories(t.modules, memoryMb * 2 ** 20);
    const modules = await Promise.all(
      [...capped].map(async ([name, m]): Promise<[string, WebAssembly.Module | Uint8Array]> => [
        name,
        this.#compile ? await WebAssembly.compile(m.bytes as Uint8Array<ArrayBuffer>) : m.bytes,
      ]),
    );
    return { glue: t.glue, modules, memories: [...capped].map(([name, m]) => [name, m.memories]) };
  }
}
