/**
 * Opening a run's editor (a code-server pod a run asked for with `"editor":
 * true`) from the dashboard: this browser asks the peer serving it, in a
 * request it signs, and gets the editor's URL on the editor's own origin
 * with a single-use ticket (peer/api/editor-routes.ts). The editor never
 * runs on the dashboard's origin, so nothing its pages run reaches this
 * browser's key. Who may look is the peer's decision (the run's holder and
 * creator, and the space's reviewers); `mayOpen` only says whether to offer it.
 */
import { WeftError } from "#protocol";
import type { Space } from "#protocol/space";
import type { Task } from "#protocol/tasks";
import { Commands } from "#protocol/ucan";
import { type ApiSigner, refusalOf, signedFetch } from "../node/api-request.ts";
import { can } from "./can.ts";

/** Whether `did` is one the peer lets in: the run's creator or holder, or a reviewer here. */
export function mayOpenEditor(space: Space, task: Task, did: string): boolean {
  return task.creator === did || task.lease?.holder === did || can(space, did, Commands.patchReview);
}

/** The URL of a fresh editor session for `task`, asked of the peer at `origin` as `me`. */
export async function editorUrl(space: Space, me: ApiSigner, origin: string, task: Task): Promise<string> {
  const path = `/v1/spaces/${encodeURIComponent(space.id)}/tasks/${encodeURIComponent(task.id)}/editor`;
  const r = await signedFetch({ me, space, origin, command: Commands.spaceRead, method: "POST", path });
  const body = r.ok ? await r.json() as { url?: unknown } : undefined;
  if (typeof body?.url !== "string" || !/^https?:\/\//.test(body.url)) {
    throw new WeftError(
      "Unavailable",
      "editor/starting",
      `the peer at ${origin} did not open the editor: ${
        r.ok ? "no URL in its answer" : await refusalOf(r) ?? r.status
      }`,
    );
  }
  return body.url;
}
