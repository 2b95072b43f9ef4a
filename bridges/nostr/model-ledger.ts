/**
 * The budget of the model calls DMs cause, durably: per UTC day, how many
 * calls each paired person made (`model_calls_per_day`) and what all DM
 * calls together cost (`model_micro_usd_per_day`). A call is counted, and
 * saved, before it is made; its cost is reserved from the router's own
 * budget hook (the same reserve-then-settle every model call goes through)
 * and settled with what the provider reports. Reservations in flight count
 * against the day, so calls made together cannot overshoot it.
 */
import { WeftError } from "#protocol";
import { readStateFile } from "./state-file.ts";
import type { BudgetHook, Reservation, ReserveRequest, Usage } from "#protocol/llm";
import { writeFileAtomic } from "../../peer/storage/atomic-file.ts";

interface LedgerFile {
  version: 1;
  /** The UTC day counted, YYYY-MM-DD. */
  day: string;
  spentMicroUsd: number;
  calls: Record<string, number>;
}

export interface ModelLimits {
  callsPerDay: number;
  microUsdPerDay: number;
}

const MAX_FILE = 4 * 1024 * 1024;
const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** The budget is spent: the plain answer the person gets, and nothing is called. */
export class ModelBudgetSpent extends WeftError {
  constructor(message: string) {
    super("ModelBudgetSpent", "budget/exhausted", message);
  }
}

export class ModelLedger {
  readonly #path: string;
  readonly #limits: ModelLimits;
  readonly #now: () => number;
  #file: LedgerFile;
  #reserved = 0;

  private constructor(path: string, file: LedgerFile, limits: ModelLimits, now: () => number) {
    this.#path = path;
    this.#file = file;
    this.#limits = limits;
    this.#now = now;
  }

  static async open(path: string, limits: ModelLimits, now: () => number = Date.now): Promise<ModelLedger> {
    const file = await readStateFile<LedgerFile>(path, {
      maxBytes: MAX_FILE,
      what: "the DM model ledger",
      valid: (p): p is LedgerFile => {
        const f = p as LedgerFile;
        return f?.version === 1 && typeof f.day === "string" && Number.isSafeInteger(f.spentMicroUsd) &&
          typeof f.calls === "object" && f.calls !== null;
      },
      startOver: "start the day's DM model budget over",
    }) ?? { version: 1, day: dayOf(now()), spentMicroUsd: 0, calls: {} };
    return new ModelLedger(path, file, limits, now);
  }

  #today(): LedgerFile {
    const day = dayOf(this.#now());
    if (this.#file.day !== day) this.#file = { version: 1, day, spentMicroUsd: 0, calls: {} };
    return this.#file;
  }

  /** Calls `person` made today. */
  callsOf(person: string): number {
    const f = this.#today();
    return Object.hasOwn(f.calls, person) ? f.calls[person] : 0;
  }

  /**
   * Count one call by `person`, durably, before it is made; ModelBudgetSpent
   * (saying so plainly) when their calls or the day's money are used up.
   */
  async begin(person: string): Promise<void> {
    const f = this.#today();
    const calls = this.callsOf(person);
    if (calls >= this.#limits.callsPerDay) {
      throw new ModelBudgetSpent(
        `You have used your ${this.#limits.callsPerDay} model ${
          this.#limits.callsPerDay === 1 ? "call" : "calls"
        } for today; ` + "commands still work (help lists them), and the model answers again after midnight UTC.",
      );
    }
    this.#checkMoney(f);
    f.calls[person] = calls + 1;
    await writeFileAtomic(this.#path, JSON.stringify(f));
  }

  #checkMoney(f: LedgerFile): void {
    if (f.spentMicroUsd + this.#reserved >= this.#limits.microUsdPerDay) {
      throw new ModelBudgetSpent(
        "Today's budget for model answers by DM is spent; commands still work (help lists them), " +
          "and the model answers again after midnight UTC.",
      );
    }
  }

  /** The router's budget hook for one call: grants what is left of the day's money, settles what it cost. */
  hook(): BudgetHook {
    return {
      // deno-lint-ignore require-await
      reserve: async (request: ReserveRequest): Promise<Reservation> => {
        const f = this.#today();
        this.#checkMoney(f);
        const left = this.#limits.microUsdPerDay - f.spentMicroUsd - this.#reserved;
        const granted = Math.min(request.maxCostMicroUsd, left);
        this.#reserved += granted;
        return { grantedMicroUsd: granted };
      },
      settle: async (reservation: Reservation, actualMicroUsd: number, _usage: Usage): Promise<void> => {
        this.#reserved -= reservation.grantedMicroUsd;
        this.#today().spentMicroUsd += actualMicroUsd;
        await writeFileAtomic(this.#path, JSON.stringify(this.#file));
      },
    };
  }

  get spentMicroUsd(): number {
    return this.#today().spentMicroUsd;
  }
}
