/**
 * The way into a run's editor (a code-server pod a run asked for, made by
 * the kubernetes bridge on this peer), as the API serves it: only the
 * task's holder and creator and the space's reviewers.
 *
 * `POST /v1/spaces/:space/tasks/:task/editor` is a UCAN-authorized query
 * like every other; its handler decides who may look (mayOpenEditor) and
 * answers with the URL of a session on the editor's own origin
 * (editor-origin.ts), carrying a single-use ticket that origin exchanges
 * for its cookie. The API's origin itself serves no editor content.
 */
import type { Hono } from "hono";
import type { ApiContext } from "./app.ts";
import { dispatch, type Handler } from "./dispatch.ts";
import { HttpError } from "./errors.ts";
import { EDITOR_ROUTES } from "./routes.ts";
import { EditorSessions, mayOpenEditor, TICKET_MS } from "./editor-sessions.ts";
import { EDITOR_PREFIX, TICKET_PARAM } from "./editor-origin.ts";

/** Where this peer serves editors: the port of its editor listener, once it listens. */
export interface EditorOrigin {
  port(): number | undefined;
}

/** Register the editor route on the API's hono app. */
export function mountEditorRoutes(app: Hono, ctx: ApiContext, sessions: EditorSessions): void {
  const open: Handler = (c, { space, params, caller }) => {
    const port = ctx.editorOrigin?.port();
    if (!ctx.editors || port === undefined) {
      throw new HttpError(404, "not-found", "this peer runs no cluster bridge that makes editors");
    }
    if (!space!.task(params.task)) throw new HttpError(404, "not-found", `no task ${params.task} in this space`);
    if (!caller || !mayOpenEditor(space!, params.task, caller)) {
      throw new HttpError(
        403,
        "editor/forbidden",
        "only the task's holder and creator, and the space's reviewers (/weft/patch/review), may open its editor",
      );
    }
    if (!ctx.editors.find(space!.id, params.task)) {
      throw new HttpError(404, "not-found", `task ${params.task} has no editor running on this peer's clusters`);
    }
    const { id, ticket } = sessions.open(space!.id, params.task, caller);
    // The host the caller reached this peer by, on the editor's port: another origin, the same machine.
    const url = new URL(c.req.url);
    url.port = String(port);
    url.pathname = `${EDITOR_PREFIX}${id}/`;
    url.search = new URLSearchParams({ [TICKET_PARAM]: ticket }).toString();
    url.hash = "";
    return c.json({ url: url.toString(), expires: new Date(Date.now() + TICKET_MS).toISOString() }, 201);
  };
  for (const route of EDITOR_ROUTES) {
    app.on(route.method, route.path, async (c) => await dispatch(ctx, route, open, c));
  }
}
