/**
 * This machine's capacity, read from the OS, for the adverts the shared
 * compute set-up makes (protocol/scheduler/compute.ts).
 */
import { availableParallelism, freemem, loadavg, totalmem } from "node:os";
import type { MachineOffer } from "#protocol/scheduler";

export function measureMachine(gpus: number, tags: string[], version: string): MachineOffer {
  const mib = (b: number) => Math.floor(b / (1024 * 1024));
  return {
    cpu: { cores: availableParallelism(), load: Math.round(loadavg()[0] * 100) / 100 },
    memoryMb: { total: mib(totalmem()), free: mib(freemem()) },
    gpus,
    tags,
    version,
  };
}
