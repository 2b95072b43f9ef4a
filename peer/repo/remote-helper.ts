/**
 * `git-remote-weft`: plain git against the local peer, for
 * `git clone weft::<space>/<repo>`, `git fetch` and `git push`.
 *
 * Design: the helper speaks git's simplest remote-helper dialect, the
 * `fetch` and `push` capabilities (gitremote-helpers(7)), with system git's
 * own plumbing on the local side (`pack-objects`, `index-pack`,
 * `merge-base`), and the peer's HTTP API on the other — found, with the
 * CLI's credentials, the way `weft` finds them ($WEFT_HOME/cli.json). Not
 * `connect`: a push is not a ref update the peer may apply when the objects
 * arrive, but a signed `/weft/repo/push` the whole space judges — so the
 * helper uploads the objects first (a quarantine on the peer), then signs
 * the ref updates with the pusher's own key and chain, and the peer moves
 * refs only if the push is valid, which every peer carrying the repository
 * checks again. A push the pusher's delegation does not allow (its ref
 * policy, or the default branch without being a maintainer) comes back as
 * git's own "remote rejected" with the reason.
 *
 *  - list: the refs the space agrees on, and HEAD → the default branch.
 *  - fetch: one pack of what the wants reach and the local refs do not, into
 *    the local repository (`git index-pack`); git then checks connectivity.
 *  - push: all updates of one `git push` in one signed operation (atomic);
 *    without `+`, a push that is not a fast-forward is refused locally.
 */
import { createInterface } from "node:readline";
import { Readable } from "node:stream";
import { messageOf } from "#protocol";
import { Commands } from "#protocol/ucan";
import { isZeroId, zeroId } from "#protocol/repo";
import { ApiClient } from "../api/client.ts";
import { loadCredentials } from "../api/credentials.ts";
import { dataDirFromEnv } from "../data-dir.ts";
import { git } from "./git-run.ts";
import { uploadObjects } from "./object-upload.ts";

interface RepoAnswer {
  defaultBranch: string;
  refs: Record<string, string>;
}

/** The haves a fetch offers at most (the local refs' tips). */
const MAX_HAVES = 1024;

export async function runRemoteHelper(url: string, input: NodeJS.ReadableStream, write: (s: string) => void) {
  const slash = url.lastIndexOf("/");
  if (slash <= 0) throw new Error(`weft remote ${url}: expected weft::<space>/<repository>`);
  const [spaceName, repo] = [url.slice(0, slash), url.slice(slash + 1)];
  const client = new ApiClient(await loadCredentials(dataDirFromEnv(process.env)));
  const { spaces } = await client.get<{ spaces: { id: string; name: string }[] }>("/v1/spaces");
  const space = (spaces.find((s) => s.id === spaceName) ?? spaces.find((s) => s.name === spaceName))?.id;
  if (!space) throw new Error(`this peer is in no space ${spaceName}; \`weft space list\` shows its spaces`);
  const base = `/v1/spaces/${encodeURIComponent(space)}/repos/${encodeURIComponent(repo)}`;
  let remote: Record<string, string> = {};

  const lines = createInterface({ input })[Symbol.asyncIterator]();
  const next = async () => {
    const r = await lines.next();
    return r.done ? undefined : r.value;
  };
  /** A batch of `fetch` or `push` lines, ended by a blank line. */
  const batch = async (first: string) => {
    const out = [first];
    for (let l = await next(); l; l = await next()) out.push(l);
    return out;
  };

  for (let line = await next(); line !== undefined && line !== ""; line = await next()) {
    if (line === "capabilities") write("fetch\npush\noption\n\n");
    else if (line.startsWith("option ")) write("unsupported\n");
    else if (line === "list" || line === "list for-push") {
      const answer = await client.get<RepoAnswer>(base);
      remote = answer.refs;
      for (const [ref, commit] of Object.entries(remote)) write(`${commit} ${ref}\n`);
      if (remote[`refs/heads/${answer.defaultBranch}`]) write(`@refs/heads/${answer.defaultBranch} HEAD\n`);
      write("\n");
    } else if (line.startsWith("fetch ")) {
      const wants = (await batch(line)).map((l) => l.split(" ")[1]);
      await fetchPack(client, base, wants);
      write("\n");
    } else if (line.startsWith("push ")) {
      const specs = (await batch(line)).map((l) => l.slice("push ".length));
      for (const result of await push(client, space, repo, base, remote, specs)) write(result + "\n");
      write("\n");
    } else throw new Error(`weft remote: unknown command ${line}`);
  }
}

async function fetchPack(client: ApiClient, base: string, wants: string[]): Promise<void> {
  const { stdout } = await git(["for-each-ref", "--format=%(objectname)"], { env: gitDirEnv() });
  const haves = [...new Set(stdout.split("\n").filter(Boolean))].slice(0, MAX_HAVES);
  const res = await client.raw("POST", `${base}/pack`, undefined, { wants: [...new Set(wants)], haves });
  await git(["index-pack", "--stdin", "--fix-thin"], {
    env: gitDirEnv(),
    input: Readable.fromWeb(res.body! as never) as AsyncIterable<Uint8Array>,
  });
}

/** Check and push every update of one `git push`; one answer line per ref. */
async function push(
  client: ApiClient,
  space: string,
  repo: string,
  base: string,
  remote: Record<string, string>,
  specs: string[],
): Promise<string[]> {
  const updates: { ref: string; old: string; new: string }[] = [];
  const refused: string[] = [];
  for (const spec of specs) {
    const force = spec.startsWith("+");
    const [src, ref] = (force ? spec.slice(1) : spec).split(":");
    const now = src ? (await git(["rev-parse", "--verify", src], { env: gitDirEnv() })).stdout.trim() : undefined;
    const old = remote[ref];
    const value = now ?? zeroId(old ?? "0".repeat(40));
    if (!force && old && now) {
      const known = await git(["cat-file", "-e", old], { env: gitDirEnv(), ok: [1, 128] });
      const ff = known.code === 0 &&
        (await git(["merge-base", "--is-ancestor", old, now], { env: gitDirEnv(), ok: [1] })).code === 0;
      if (!ff) {
        refused.push(`error ${ref} ${known.code === 0 ? "non-fast-forward" : "fetch first"}`);
        continue;
      }
    }
    if (old === value || (!old && isZeroId(value))) continue;
    updates.push({ ref, old: old ?? zeroId(value), new: value });
  }
  if (refused.length > 0) {
    return [
      ...refused,
      ...updates.map((u) => `error ${u.ref} another ref of this push was refused`),
    ];
  }
  if (updates.length === 0) return specs.map((s) => `ok ${s.split(":")[1]}`);
  try {
    const quarantine = await uploadPack(client, base, updates, remote);
    await client.signed(
      space,
      Commands.repoPush,
      { repo, updates },
      `${base}/pushes${quarantine ? `?quarantine=${quarantine}` : ""}`,
    );
    return specs.map((s) => `ok ${s.split(":")[1]}`);
  } catch (e) {
    const why = messageOf(e).replace(/\s+/g, " ");
    return specs.map((s) => `error ${s.split(":")[1]} ${why}`);
  }
}

/** Upload what the new commits reach and the peer's refs do not; the quarantine id, or none if nothing is new. */
async function uploadPack(
  client: ApiClient,
  base: string,
  updates: { new: string }[],
  remote: Record<string, string>,
): Promise<string | undefined> {
  const news = updates.map((u) => u.new).filter((id) => !isZeroId(id));
  if (news.length === 0) return undefined;
  const known: string[] = [];
  for (const id of new Set(Object.values(remote))) {
    if ((await git(["cat-file", "-e", id], { env: gitDirEnv(), ok: [1, 128] })).code === 0) known.push(id);
  }
  return await uploadObjects(client, base, "push", news, known, gitDirEnv());
}

/** git runs the helper with GIT_DIR set to the local repository; its plumbing works there. */
function gitDirEnv(): Record<string, string> {
  const dir = process.env.GIT_DIR;
  if (!dir) throw new Error("git-remote-weft is run by git (GIT_DIR is not set)");
  return { GIT_DIR: dir };
}
