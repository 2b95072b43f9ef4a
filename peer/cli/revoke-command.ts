/**
 * `weft space revoke`: says what will happen to the member's work, asks
 * before doing it (or takes --yes), and passes --void-since (a stolen key:
 * also void what it signed from then on) to the revoke route.
 */
import process from "node:process";
import { createInterface } from "node:readline/promises";
import { WeftError } from "#protocol";
import { enc, need, str, Usage } from "./args.ts";
import { type Command, resolveSpace } from "./command.ts";
import { short } from "./output.ts";

interface Capability {
  cid: string;
  aud: string;
  meta: { name?: string };
  revoked: boolean;
}

/** Read --void-since as Unix ms, refusing what is not an ISO 8601 time or lies ahead. */
function voidSinceOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = Date.parse(text);
  if (!Number.isFinite(ms)) {
    throw new Usage(`--void-since is an ISO 8601 time, e.g. 2026-12-02T03:00:00Z (got ${text})`);
  }
  if (ms > Date.now()) {
    throw new Usage("--void-since is in the future: name when the key was (or may have been) stolen");
  }
  return ms;
}

async function confirmed(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

export const REVOKE_COMMAND: Command = {
  usage: "weft space revoke <delegation-cid> [--void-since <ISO time>] [--yes] [--space <s>]",
  summary: "Revoke a member's delegation (see `weft cap list`); says what happens to their work and asks first",
  options: { "void-since": { type: "string" }, yes: { type: "boolean", short: "y" } },
  async run(a, v, io) {
    const space = await resolveSpace(io, v);
    const cid = need(a, 0, "delegation-cid");
    const voidSince = voidSinceOf(str(v, "void-since"));
    const client = await io.client();
    const { capabilities } = await client.get<{ capabilities: Capability[] }>(`/v1/spaces/${enc(space)}/capabilities`);
    const target = capabilities.find((c) => c.cid === cid);
    if (!target) throw new Usage(`no delegation ${cid} in this space; see \`weft cap list\``);
    const member = target.meta.name ? `${target.meta.name} (${short(target.aud)})` : target.aud;
    const { revocationNotice } = await import("#protocol/space");
    const notice = revocationNotice(member, voidSince);
    if (!v.yes) {
      if (!process.stdin.isTTY) throw new Usage(`${notice}\nAdd --yes to confirm.`);
      process.stderr.write(`${notice}\n`);
      if (!(await confirmed("Revoke?"))) throw new WeftError("Cancelled", "cli/cancelled", "not revoked");
    }
    const r = await client.request(
      "DELETE",
      `/v1/spaces/${enc(space)}/capabilities/${enc(cid)}`,
      voidSince === undefined ? undefined : { voidSince: new Date(voidSince).toISOString() },
    );
    io.print(r, () => `revoked ${cid}: ${notice}`);
  },
};
