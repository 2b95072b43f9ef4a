/**
 * Sending a local repository's objects to a peer ahead of the operation
 * that names them (a push, a merge with its merge commit): a pack of what
 * `wants` reach and `haves` do not, uploaded to the repository's objects
 * route (checked there against its sha-256 and size) into a quarantine;
 * resolves with the quarantine's id, which the operation then names.
 */
import { createHash } from "node:crypto";
import type { ApiClient } from "../api/client.ts";
import { startGit } from "./git-child.ts";

/** `git pack-objects --revs --stdout` of the local repository, as bytes. */
async function packBytes(revs: string, env?: Record<string, string>): Promise<Uint8Array> {
  const child = await startGit(["pack-objects", "--revs", "--stdout", "--quiet"], { env });
  const chunks: Buffer[] = [];
  child.stdout.on("data", (b: Buffer) => chunks.push(b));
  child.stdin.end(revs);
  if ((await child.exited) !== 0) throw new Error(`git pack-objects failed: ${child.stderr()}`);
  return new Uint8Array(Buffer.concat(chunks));
}

/** Where each kind of upload goes: a push's objects need the push right, a merge commit's the merge right. */
const UPLOAD_ROUTE = { push: "objects", merge: "merge-objects" } as const;

/**
 * Upload what `wants` reach and `haves` do not (every `have` must be a
 * commit of the local repository) to `repoPath` (`/v1/spaces/<s>/repos/<r>`),
 * for the operation `purpose` names; the quarantine's id. `env` locates the
 * local repository (GIT_DIR) if not the working directory's.
 */
export async function uploadObjects(
  client: ApiClient,
  repoPath: string,
  purpose: keyof typeof UPLOAD_ROUTE,
  wants: readonly string[],
  haves: readonly string[],
  env?: Record<string, string>,
): Promise<string> {
  const pack = await packBytes([...wants, ...haves.map((id) => `^${id}`)].join("\n") + "\n", env);
  const sha256 = createHash("sha256").update(pack).digest("hex");
  const path = `${repoPath}/${UPLOAD_ROUTE[purpose]}?sha256=${sha256}&size=${pack.length}`;
  const res = await client.raw("POST", path, pack);
  return ((await res.json()) as { quarantine: string }).quarantine;
}
