/** CLI output: JSON for scripts (`--json`), aligned tables for people. */
import { neutralized } from "#protocol/schema";

export function table(rows: Array<Record<string, unknown>>, columns: string[]): string {
  if (rows.length === 0) return "(none)";
  // Cells come from the network: a control character in one must not reach the terminal.
  const cell = (v: unknown) =>
    neutralized(v === undefined || v === null ? "-" : Array.isArray(v) ? v.join(",") : String(v));
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i])).join("  ").trimEnd();
  return [line(columns.map((c) => c.toUpperCase())), ...rows.map((r) => line(columns.map((c) => cell(r[c]))))].join(
    "\n",
  );
}

export function short(did: string | undefined): string {
  if (!did) return "-";
  return did.startsWith("did:key:") ? `${did.slice(8, 14)}…${did.slice(-4)}` : did;
}
