/**
 * Finding out what really isolates jobs on this machine, by trying it: a
 * bubblewrap sandbox with every namespace unshared must start and exit
 * cleanly, and the cgroup v1 controllers the limits need must be writable.
 * Each probe says in one sentence why it failed, for the peer's log.
 */
import { HOST_USR_ARGS } from "./host-tools.ts";
import { cgroupsUsable } from "./cgroup.ts";
import { runTool } from "./tool.ts";

async function works(command: string, args: string[], what: string): Promise<string | undefined> {
  const r = await runTool(command, args, { timeoutMs: 30_000 });
  if (r.code === 0) return undefined;
  const said = r.stderr.trim().split("\n").pop() || `exit code ${r.code}`;
  return `${what} failed: ${said}`;
}

/** Undefined when bubblewrap isolates jobs here; otherwise why not. */
export async function probeBwrap(cgroupParent: string): Promise<string | undefined> {
  return await works(
    "bwrap",
    ["--unshare-all", "--die-with-parent", "--cap-drop", "ALL", ...HOST_USR_ARGS, "true"],
    "a bubblewrap sandbox (--unshare-all)",
  ) ??
    await works("tar", ["--version"], "tar (unpacks images)") ??
    await works("prlimit", ["--version"], "prlimit (util-linux)") ??
    await cgroupsUsable(cgroupParent);
}
