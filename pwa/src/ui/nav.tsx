/** The views, as a navigation list; the current one is marked for assistive technology too. */
import type { Route, SpaceView } from "../model/route.ts";
import { spaceHref } from "../model/route.ts";

const VIEWS: [SpaceView, string][] = [
  ["tasks", "Tasks"],
  ["runs", "Runs"],
  ["board", "Board"],
  ["graph", "Graph"],
  ["people", "People"],
  ["resources", "Resources"],
  ["capabilities", "Capabilities"],
  ["diagnostics", "Diagnostics"],
];

export function Nav(props: { route: Route; space?: string }) {
  const current = props.route.view === "task" ? "tasks" : props.route.view;
  const link = (href: string, view: string, label: string) => (
    <li key={view}>
      <a href={href} aria-current={current === view ? "page" : undefined}>{label}</a>
    </li>
  );
  return (
    <nav class="views" aria-label="Views">
      <ul>
        {props.space && VIEWS.map(([view, label]) => link(spaceHref(props.space!, view), view, label))}
        {link("#/spaces", "spaces", "Spaces")}
        {link("#/settings", "settings", "Settings")}
      </ul>
    </nav>
  );
}
