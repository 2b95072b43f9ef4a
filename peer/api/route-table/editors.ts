import { Commands } from "#protocol/ucan";
import type { RouteDef } from "./def.ts";
import { q } from "./def.ts";

/**
 * The editor route (editor-routes.ts serves it): a member asks to look at
 * the editor a run asked for; the peer lets in only the task's holder and
 * creator and the space's reviewers (holders of /weft/patch/review), and
 * answers with the session path its cookie opens. The editor itself is
 * served under /v1/editor/<session>/, outside this table: a browser's page
 * and its assets carry the session cookie, not a bearer.
 */
export const EDITOR_ROUTES: RouteDef[] = [
  {
    method: "POST",
    path: "/v1/spaces/:space/tasks/:task/editor",
    summary: "Open the editor of a run on its working tree (its holder, creator and reviewers only): a session path",
    auth: q(Commands.spaceRead),
  },
];
