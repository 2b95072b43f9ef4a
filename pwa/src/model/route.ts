/**
 * Routes live in the URL's hash (`#/s/<space>/tasks?status=open`), so the
 * app works from any static host and under the peer, whose paths belong to
 * its API, and every view can be linked to and reloaded offline.
 */
import { useEffect, useState } from "preact/hooks";

export const SPACE_VIEWS = [
  "tasks",
  "inbox",
  "runs",
  "patches",
  "agents",
  "code",
  "clusters",
  "board",
  "graph",
  "people",
  "resources",
  "capabilities",
  "diagnostics",
] as const;
export type SpaceView = (typeof SPACE_VIEWS)[number];

export type Route =
  | { view: "home" }
  | { view: "spaces" }
  | { view: "settings" }
  | { view: "join"; invite?: string }
  | { view: "pair"; code?: string }
  | { view: SpaceView; space: string; query: URLSearchParams }
  | { view: "task"; space: string; task: string }
  | { view: "patch"; space: string; patch: string; query: URLSearchParams };

export function parseRoute(hash: string): Route {
  const [path, search = ""] = hash.replace(/^#\/?/, "").split("?", 2);
  const parts = path.split("/").map(decodeURIComponent);
  const query = new URLSearchParams(search);
  if (parts[0] === "spaces") return { view: "spaces" };
  if (parts[0] === "settings") return { view: "settings" };
  if (parts[0] === "pair") return { view: "pair", ...(query.get("code") ? { code: query.get("code")! } : {}) };
  if (parts[0] === "join") return { view: "join", ...(query.get("invite") ? { invite: query.get("invite")! } : {}) };
  if (parts[0] === "s" && parts[1]) {
    if (parts[2] === "task" && parts[3]) return { view: "task", space: parts[1], task: parts[3] };
    if (parts[2] === "patch" && parts[3]) return { view: "patch", space: parts[1], patch: parts[3], query };
    const view = (SPACE_VIEWS as readonly string[]).includes(parts[2]) ? parts[2] as SpaceView : "tasks";
    return { view, space: parts[1], query };
  }
  return { view: "home" };
}

/** The hash for a view of a space (with an optional query) or a task. */
export function spaceHref(space: string, view: SpaceView, query?: Record<string, string>): string {
  const q = query ? new URLSearchParams(Object.entries(query).filter(([, v]) => v !== "")).toString() : "";
  return `#/s/${encodeURIComponent(space)}/${view}${q ? `?${q}` : ""}`;
}

export function taskHref(space: string, task: string): string {
  return `#/s/${encodeURIComponent(space)}/task/${encodeURIComponent(task)}`;
}

/** The hash of a patch's page (with an optional query: which revisions to compare). */
export function patchHref(space: string, patch: string, query?: Record<string, string>): string {
  const q = query ? new URLSearchParams(query).toString() : "";
  return `#/s/${encodeURIComponent(space)}/patch/${encodeURIComponent(patch)}${q ? `?${q}` : ""}`;
}

export function navigate(hash: string, replace = false): void {
  if (replace) {
    history.replaceState(null, "", hash);
    dispatchEvent(new HashChangeEvent("hashchange"));
  } else {
    location.hash = hash;
  }
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(location.hash));
    addEventListener("hashchange", onChange);
    return () => removeEventListener("hashchange", onChange);
  }, []);
  return route;
}
