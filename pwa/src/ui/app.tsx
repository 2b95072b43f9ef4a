/**
 * The app shell: routes (in the URL's hash) to views of the open space or
 * of the node, the header and navigation, the command bar on Ctrl+K, and
 * the notices, and above a space's view, whether this node was removed
 * from it. The browser node is opened before this renders (main.tsx).
 */
import { useCallback, useEffect, useMemo, useState } from "preact/hooks";
import { useEvents } from "../model/hooks.ts";
import { navigate, spaceHref, useRoute } from "../model/route.ts";
import type { BrowserNode } from "../node/browser-node.ts";
import { CommandBar } from "./command-bar.tsx";
import { AppCtx, type Notice } from "./context.ts";
import { Header } from "./header.tsx";
import { Nav } from "./nav.tsx";
import { Notices, type ShownNotice } from "./notices.tsx";
import { StandingBanner } from "./standing-banner.tsx";
import { BackupBanner } from "./backup-banner.tsx";
import { Board } from "./views/board.tsx";
import { Capabilities } from "./views/capabilities.tsx";
import { Diagnostics } from "./views/diagnostics.tsx";
import { Graph } from "./views/graph.tsx";
import { Join } from "./views/join.tsx";
import { Pair } from "./views/pair.tsx";
import { InvitesWaiting } from "./views/invites-waiting.tsx";
import { People } from "./views/people.tsx";
import { Resources } from "./views/resources.tsx";
import { SettingsView } from "./views/settings.tsx";
import { Spaces } from "./views/spaces.tsx";
import { TaskList } from "./views/task-list.tsx";
import { Welcome } from "./views/welcome.tsx";
import { TaskDetail } from "./task/task-detail.tsx";
import { RunsView } from "./runs/runs-view.tsx";
import { ClustersView } from "./clusters/clusters-view.tsx";
import { Inbox } from "./views/inbox.tsx";
import { PatchesView } from "./patches/patches-view.tsx";
import { PatchPage } from "./patches/patch-page.tsx";
import { CodeView } from "./code/code-view.tsx";
import { AgentsView } from "./agents/agents-view.tsx";

let noticeIds = 0;
/** Notices shown at once; older ones give way. */
const MAX_NOTICES = 3;
/** How long a confirmation stays, and an error (long enough to read, or to dismiss by hand). */
const INFO_MS = 5000;
const ERROR_MS = 12_000;

/** `notices`: what to tell on first render (e.g. what a saved view showed that did not verify). */
export function App(props: { bn: BrowserNode; notices?: Notice[] }) {
  const { bn } = props;
  const route = useRoute();
  useEvents((fire) => bn.subscribe(fire), [bn]);
  const [notices, setNotices] = useState<ShownNotice[]>([]);
  const [commands, setCommands] = useState(false);

  const notify = useCallback((n: Notice) => {
    const id = ++noticeIds;
    // The same message again is counted on the one already shown, which starts its time over.
    setNotices((list) => {
      const same = list.find((x) => x.text === n.text && !x.error === !n.error);
      return [...list.filter((x) => x !== same), { ...n, id, count: (same?.count ?? 0) + 1 }].slice(-MAX_NOTICES);
    });
    setTimeout(() => setNotices((list) => list.filter((x) => x.id !== id)), n.error ? ERROR_MS : INFO_MS);
  }, []);
  const ctx = useMemo(() => ({ bn, notify }), [bn, notify]);
  useEffect(() => {
    for (const n of props.notices ?? []) notify(n);
  }, []);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "k") {
        e.preventDefault();
        setCommands((open) => !open);
      }
    };
    addEventListener("keydown", onKey);
    return () => removeEventListener("keydown", onKey);
  }, []);

  const spaceId = "space" in route ? route.space : undefined;
  const space = spaceId ? bn.node.space(spaceId) : undefined;
  // Pages of the node (spaces, settings) keep the open space in the header, the navigation and the command bar.
  const context = spaceId ? space : bn.node.space(bn.currentSpace ?? "");
  useEffect(() => {
    if (space) void bn.openSpace(space.id);
  }, [space?.id]);

  // The start page: the space open last time, else the first, else the welcome page.
  const fallback = bn.node.space(bn.currentSpace ?? "") ?? bn.node.spaces()[0];
  useEffect(() => {
    if (route.view === "home" && fallback) navigate(spaceHref(fallback.id, "tasks"), true);
  }, [route.view, fallback?.id]);

  let view;
  if (route.view === "spaces") view = <Spaces />;
  else if (route.view === "settings") view = <SettingsView />;
  else if (route.view === "join") view = <Join invite={route.invite} />;
  else if (route.view === "pair") view = <Pair code={route.code} />;
  else if (route.view === "home") view = fallback ? null : <Welcome />;
  else if (!space) {
    view = (
      <section aria-labelledby="missing-title">
        <h1 id="missing-title">Not in this space</h1>
        <p>
          This browser is not a member of <code>{spaceId}</code>
          {bn.pendingJoins.some((j) => j.space === spaceId) ? " yet: it is waiting for a member to serve it." : "."}
        </p>
        <p>
          <a href="#/spaces">See your spaces</a>
        </p>
      </section>
    );
  } else if (route.view === "task") view = <TaskDetail space={space} id={route.task} />;
  else if (route.view === "inbox") view = <Inbox space={space} />;
  else if (route.view === "runs") view = <RunsView space={space} query={route.query} />;
  else if (route.view === "patches") view = <PatchesView space={space} query={route.query} />;
  else if (route.view === "patch") view = <PatchPage space={space} id={route.patch} query={route.query} />;
  else if (route.view === "agents") view = <AgentsView space={space} />;
  else if (route.view === "code") view = <CodeView space={space} query={route.query} />;
  else if (route.view === "clusters") view = <ClustersView space={space} />;
  else if (route.view === "board") view = <Board space={space} />;
  else if (route.view === "graph") view = <Graph space={space} />;
  else if (route.view === "people") view = <People space={space} />;
  else if (route.view === "resources") view = <Resources space={space} />;
  else if (route.view === "capabilities") view = <Capabilities space={space} />;
  else if (route.view === "diagnostics") view = <Diagnostics space={space} />;
  else view = <TaskList space={space} query={route.query} />;

  return (
    <AppCtx.Provider value={ctx}>
      <a
        class="skip"
        href="#main"
        onClick={(e) => {
          e.preventDefault();
          document.getElementById("main")?.focus();
        }}
      >
        Skip to content
      </a>
      <Header space={context} openCommands={() => setCommands(true)} />
      <Nav route={route} space={context} />
      <main id="main" tabIndex={-1}>
        {space && <StandingBanner space={space} />}
        {space && <BackupBanner space={space} />}
        <InvitesWaiting />
        {view}
      </main>
      <CommandBar open={commands} space={context} close={() => setCommands(false)} />
      <Notices notices={notices} dismiss={(id) => setNotices((l) => l.filter((n) => n.id !== id))} />
    </AppCtx.Provider>
  );
}
