/** What the Deno driver (deno-driver.ts) reports for each sample run, as the Node test reads it. */
export interface Report {
  backend: string;
  sample: string;
  args: string[];
  status: string;
  reason?: string;
  outputs: Record<string, string>;
  logs: string[];
  overrunMs?: number;
  /** For runs stopped at a limit: how many limits were tried until the log line came out first. */
  attempts?: number;
}
