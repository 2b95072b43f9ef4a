/** The views, as a navigation list; the current one is marked for assistive technology too, the inbox and approvals waiting counted. */
import type { Space } from "#protocol/space";
import type { Route, SpaceView } from "../model/route.ts";
import { spaceHref } from "../model/route.ts";
import { useTick } from "../model/hooks.ts";
import { useApp } from "./context.ts";
import { inbox } from "./views/inbox.tsx";
import { pendingRequests } from "../model/agents.ts";

const VIEWS: [SpaceView, string][] = [
  ["tasks", "Tasks"],
  ["inbox", "Inbox"],
  ["runs", "Runs"],
  ["patches", "Patches"],
  ["agents", "Agents"],
  ["code", "Code"],
  ["clusters", "Clusters"],
  ["board", "Board"],
  ["graph", "Graph"],
  ["people", "People"],
  ["resources", "Resources"],
  ["capabilities", "Capabilities"],
  ["diagnostics", "Diagnostics"],
];

export function Nav(props: { route: Route; space?: Space }) {
  const current = props.route.view === "task" ? "tasks" : props.route.view === "patch" ? "patches" : props.route.view;
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
            link(
              spaceHref(space.id, view),
              view,
              label,
              view === "inbox"
                ? <InboxCount space={space} />
                : view === "agents"
                ? <WaitingCount space={space} />
                : undefined,
            )
          )}
        {link("#/spaces", "spaces", "Spaces")}
        {link("#/settings", "settings", "Settings")}
      </ul>
    </nav>
  );
}

/**
 * Counted every few seconds rather than on every change: a sync delivers
 * thousands of changes, and the count reads every task.
 */
function InboxCount(props: { space: Space }) {
  const { bn } = useApp();
  useTick(2000);
  const n = inbox(props.space, bn.did).length;
  return n > 0 ? <span class="count-badge" data-inbox-count={n} aria-label={`, ${n} waiting`}>{n}</span> : null;
}

/** Agents' requests waiting for a person's approval, counted on the Agents link. */
function WaitingCount(props: { space: Space }) {
  useTick(2000);
  const n = pendingRequests(props.space).length;
  return n > 0
    ? <span class="count-badge" data-waiting-count={n} aria-label={`, ${n} waiting for approval`}>{n}</span>
    : null;
}
