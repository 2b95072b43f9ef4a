/**
 * The output limit, counted as the job writes: bytes held in /outputs,
 * every byte written to stdout or stderr, and the bytes of every name the
 * job gives an entry under /outputs (a name becomes a line of the run's
 * manifest, so 100,000 empty files are not free). Going over throws
 * OutputLimitExceeded, which is not a WASI error: it unwinds through the
 * component and ends the job with status "output-limit". Shrinking a file
 * gives its bytes back; deleting one does not (an open handle may still
 * hold them). It also bounds how many entries a job may create under
 * /outputs and the bytes of their names (core/output-limits.ts), with the
 * same status.
 */

export class OutputLimitExceeded extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OutputLimitExceeded";
  }
}
import { MAX_OUTPUT_ENTRIES, MAX_OUTPUT_NAME_BYTES } from "../core/output-limits.ts";

export class OutputBudget {
  readonly limit: number;
  #used = 0;
  #entries = 0;
  #names = 0;

  constructor(limit: number) {
    this.limit = limit;
  }

  /** Count `bytes` more; throws OutputLimitExceeded past the limit. */
  charge(bytes: number): void {
    this.#used += bytes;
    if (this.#used > this.limit) {
      throw new OutputLimitExceeded(
        `wrote more than its ${this.limit}-byte output limit (output files, their names and log lines together)`,
      );
    }
  }

  /** A file changed size. */
  resize(from: number, to: number): void {
    this.charge(to - from);
  }

  /** An entry gets the name `path` (a rename included): its bytes count. */
  name(path: string): void {
    const bytes = new TextEncoder().encode(path).length;
    this.#names += bytes;
    if (this.#names > MAX_OUTPUT_NAME_BYTES) {
      throw new OutputLimitExceeded(
        `named its entries in /outputs with more than ${MAX_OUTPUT_NAME_BYTES} bytes of paths`,
      );
    }
    this.charge(bytes);
  }

  /** One more entry, named `path`; throws OutputLimitExceeded when there are too many. */
  entry(path: string): void {
    if (this.#entries >= MAX_OUTPUT_ENTRIES) {
      throw new OutputLimitExceeded(`created more than ${MAX_OUTPUT_ENTRIES} files, directories and links in /outputs`);
    }
    this.#entries++;
    this.name(path);
  }
}
