/** The views, as a navigation list; the current one is marked for assistive technology too, the inbox counted. */
import type { Space } from "#protocol/space";
import type { Route, SpaceView } from "../model/route.ts";
import { spaceHref } from "../model/route.ts";
import { useInbox } from "./views/inbox.tsx";

const VIEWS: [SpaceView, string][] = [
  ["tasks", "Tasks"],
  ["inbox", "Inbox"],
  ["runs", "Runs"],
  ["board", "Board"],
  ["graph", "Graph"],
  ["people", "People"],
  ["resources", "Resources"],
  ["capabilities", "Capabilities"],
  ["diagnostics", "Diagnostics"],
];

export function Nav(props: { route: Route; space?: Space }) {
  const current = props.route.view === "task" ? "tasks" : props.route.view;
  const link = (href: string, view: string, label: string, extra?: preact.ComponentChildren) => (
    <li key={view}>
      <a href={href} aria-current={current === view ? "page" : undefined}>{label}{extra}</a>
    </li>
  );
  const space = props.space;
  return (
    <nav class="views" aria-label="Views">
      <ul>
        {space &&
          VIEWS.map(([view, label]) =>
            link(spaceHref(space.id, view), view, label, view === "inbox" ? <InboxCount space={space} /> : undefined)
          )}
        {link("#/spaces", "spaces", "Spaces")}
        {link("#/settings", "settings", "Settings")}
      </ul>
    </nav>
  );
}

function InboxCount(props: { space: Space }) {
  const n = useInbox(props.space).length;
  return n > 0 ? <span class="count-badge" data-inbox-count={n} aria-label={`, ${n} waiting`}>{n}</span> : null;
}
