/**
 * The output limit, counted as the job writes: bytes held in /outputs plus
 * every byte written to stdout or stderr. Going over throws
 * OutputLimitExceeded, which is not a WASI error: it unwinds through the
 * component and ends the job with status "output-limit". Shrinking a file
 * gives its bytes back; deleting one does not (an open handle may still hold
 * them). It also bounds how many entries a job may create under /outputs.
 */

export class OutputLimitExceeded extends Error {
  constructor(limit: number) {
    super(`wrote more than its ${limit}-byte output limit (output files and log lines together)`);
    this.name = "OutputLimitExceeded";
  }
}

/** Most files, directories and symlinks a job may create under /outputs. */
export const MAX_OUTPUT_ENTRIES = 100_000;

export class OutputBudget {
  readonly limit: number;
  #used = 0;
  #entries = 0;

  constructor(limit: number) {
    this.limit = limit;
  }

  /** Count `bytes` more; throws OutputLimitExceeded past the limit. */
  charge(bytes: number): void {
    this.#used += bytes;
    if (this.#used > this.limit) throw new OutputLimitExceeded(this.limit);
  }

  /** A file changed size. */
  resize(from: number, to: number): void {
    this.charge(to - from);
  }

  /** One more entry; throws the WASI error "quota" when there are too many. */
  entry(): void {
    if (this.#entries >= MAX_OUTPUT_ENTRIES) throw "quota";
    this.#entries++;
  }
}
