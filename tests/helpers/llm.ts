/**
 * Helpers for the LLM router's tests: `[llm]` settings from TOML text (as
 * weft.toml would hold them), an in-memory budget implementing the
 * router's reserve/settle hook (named as such: the agents' real budgets
 * live elsewhere), and loopback endpoints that fail in known ways.
 */
import { createServer, type Server } from "node:net";
import { parse as parseToml } from "smol-toml";
import { WeftError } from "#protocol";
import type { BudgetHook, LlmSettings, Reservation, ReserveRequest, Usage } from "#protocol/llm";
import { llmConfig } from "../../peer/llm/config.ts";

export function llmSettings(toml: string): LlmSettings {
  return llmConfig(parseToml(toml) as Record<string, unknown>, "test weft.toml")!;
}

/** A budget of `limitMicroUsd` kept in memory, counting reservations in flight; grants what is left when asked for more. */
export class InMemoryBudget implements BudgetHook {
  spent = 0;
  reserved = 0;
  readonly reserves: ReserveRequest[] = [];
  readonly settles: Array<{ granted: number; actual: number; usage: Usage }> = [];
  readonly limitMicroUsd: number;
  constructor(limitMicroUsd: number) {
    this.limitMicroUsd = limitMicroUsd;
  }
  reserve(request: ReserveRequest): Promise<Reservation> {
    this.reserves.push(request);
    const left = this.limitMicroUsd - this.spent - this.reserved;
    if (left <= 0) {
      return Promise.reject(new WeftError("LlmError", "llm/budget-exhausted", "the in-memory budget is spent"));
    }
    const granted = Math.min(left, request.maxCostMicroUsd);
    this.reserved += granted;
    return Promise.resolve({ grantedMicroUsd: granted });
  }
  settle(reservation: Reservation, actual: number, usage: Usage): Promise<void> {
    this.reserved -= reservation.grantedMicroUsd;
    this.spent += actual;
    this.settles.push({ granted: reservation.grantedMicroUsd, actual, usage });
    return Promise.resolve();
  }
}

/** A loopback port nothing listens on (bound, then closed): a provider that is down. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A loopback server that accepts connections and never answers: a provider that hangs. */
export async function hangingServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<import("node:net").Socket>();
  const server: Server = createServer((s) => void sockets.add(s));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as { port: number }).port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
