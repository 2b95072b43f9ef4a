/**
 * Code: the space's repositories read in the browser — files at a branch
 * or commit, one file's text, and the diff between two commits (unified or
 * side by side). Everything is read from this browser's own copy
 * (IndexedDB), brought up to date from a connected peer when the view
 * opens, so it keeps working offline. The URL's query holds the choices
 * (`repo`, `ref`, `path`, `file`, `from`, `to`), so any page of it can be
 * linked to and reloaded.
 */
import { useEffect, useState } from "preact/hooks";
import { messageOf } from "#protocol";
import { REPO_FAMILY, type RepoReducer } from "#protocol/repo";
import type { Space } from "#protocol/space";
import type { FileAt, Repo, TreeEntry } from "../../model/git-read.ts";
import { navigate, spaceHref } from "../../model/route.ts";
import { useApp, useSpace } from "../context.ts";
import { type DiffMode, DiffModeSwitch, DiffView } from "./diff-view.tsx";
import { useDiff } from "./use-diff.ts";
import { type CodeReader, type RepoStatus, useRepo } from "./use-repo.ts";

export function CodeView(props: { space: Space; query: URLSearchParams }) {
  useSpace(props.space);
  const repos = [...props.space.log.state<RepoReducer>(REPO_FAMILY).repos.values()];
  const name = props.query.get("repo") ?? repos[0]?.name;
  const repo = repos.find((r) => r.name === name);
  return (
    <section aria-labelledby="code-title" class="stack">
      <h1 id="code-title">Code</h1>
      {repos.length === 0
        ? (
          <p class="empty">
            No repository in this space yet: create one with <code>weft repo create</code>.
          </p>
        )
        : (
          <>
            <div class="row wrap">
              <label for="code-repo">Repository</label>
              <select
                id="code-repo"
                value={name}
                onChange={(e) => go(props.space, { repo: e.currentTarget.value })}
              >
                {repos.map((r) => <option key={r.name} value={r.name}>{r.name}</option>)}
              </select>
            </div>
            {repo
              ? <RepoBrowser key={repo.name} space={props.space} repo={repo.name} query={props.query} />
              : <p class="empty">No repository {name} in this space.</p>}
          </>
        )}
    </section>
  );
}

function go(space: Space, query: Record<string, string>): void {
  navigate(spaceHref(space.id, "code", query));
}

function RepoBrowser(props: { space: Space; repo: string; query: URLSearchParams }) {
  const { bn } = useApp();
  const status = useRepo(bn, props.space, props.repo, []);
  const state = props.space.log.state<RepoReducer>(REPO_FAMILY).repos.get(props.repo)!;
  const refs = [...state.refs.keys()].sort();
  const ref = props.query.get("ref") ?? `refs/heads/${state.defaultBranch}`;
  const path = props.query.get("path") ?? "";
  const file = props.query.get("file");
  const from = props.query.get("from") ?? undefined;
  const to = props.query.get("to") ?? undefined;
  const here = (q: Record<string, string>) => go(props.space, { repo: props.repo, ref, ...q });
  return (
    <div class="stack">
      <FetchState status={status} />
      <div class="row wrap">
        <label for="code-ref">Branch</label>
        <select id="code-ref" value={ref} onChange={(e) => here({ ref: e.currentTarget.value })}>
          {refs.map((r) => <option key={r} value={r}>{r.replace(/^refs\/heads\//, "")}</option>)}
        </select>
      </div>
      {from && to ? <Compare status={status} from={from} to={to} /> : file
        ? (
          <FileView
            status={status}
            ref_={ref}
            path={file}
            up={() => here({ path: file.split("/").slice(0, -1).join("/") })}
          />
        )
        : (
          <Tree
            status={status}
            ref_={ref}
            path={path}
            open={(e) => here(e.type === "tree" ? { path: e.path } : { file: e.path })}
          />
        )}
      <CompareForm from={from} to={to} go={(f, t) => here({ from: f, to: t })} />
    </div>
  );
}

function FetchState(props: { status: RepoStatus }) {
  const { status } = props;
  return (
    <p class="hint" data-fetch-state={status.state} aria-live="polite">
      {status.state === "fetching" && "Fetching from a peer…"}
      {status.state === "ready" && "Up to date with the space."}
      {status.state === "stale" && `Showing this browser's copy: ${status.error}`}{" "}
      {status.state !== "fetching" && <button type="button" class="link" onClick={status.refresh}>Fetch again</button>}
    </p>
  );
}

type Reading<T> = (read: CodeReader, repo: Repo) => Promise<T>;

/** Read something from the local copy (again whenever it may have changed); errors say what is missing. */
function useRead<T>(status: RepoStatus, reading: Reading<T>, deps: unknown[]) {
  const [out, setOut] = useState<{ value?: T; error?: string }>({});
  useEffect(() => {
    const { read, repo } = status;
    if (!read || !repo) return;
    let gone = false;
    reading(read, repo).then((value) => !gone && setOut({ value }), (e) => !gone && setOut({ error: messageOf(e) }));
    return () => {
      gone = true;
    };
  }, [status.repo?.gitdir, status.version, ...deps]);
  return out;
}

function Tree(props: { status: RepoStatus; ref_: string; path: string; open(e: TreeEntry): void }) {
  const { status, ref_, path } = props;
  const { value, error } = useRead(
    status,
    async (read, repo) => await read.listTree(repo, await read.resolveCommit(repo, ref_), path),
    [ref_, path],
  );
  if (error) {
    return <p class="empty">{status.state === "fetching" ? "Fetching…" : `Nothing to show here yet: ${error}`}</p>;
  }
  if (!value) return <p class="hint">Reading…</p>;
  return (
    <nav aria-label={`Files in /${path}`}>
      <p>
        <code>/{path}</code>
      </p>
      <ul class="plain files">
        {path && (
          <li>
            <button
              type="button"
              class="link"
              onClick={() =>
                props.open({ name: "..", path: path.split("/").slice(0, -1).join("/"), type: "tree", oid: "" })}
            >
              ..
            </button>
          </li>
        )}
        {value.map((e) => (
          <li key={e.path} data-entry={e.path}>
            <button type="button" class="link" onClick={() => props.open(e)}>
              {e.name}
              {e.type === "tree" ? "/" : ""}
            </button>
          </li>
        ))}
      </ul>
    </nav>
  );
}

function FileView(props: { status: RepoStatus; ref_: string; path: string; up(): void }) {
  const { status, ref_, path } = props;
  const { value, error } = useRead<FileAt>(
    status,
    async (read, repo) => await read.readFileAt(repo, await read.resolveCommit(repo, ref_), path),
    [ref_, path],
  );
  return (
    <article aria-label={path} class="stack">
      <div class="row">
        <button type="button" class="link" onClick={props.up}>Back to the folder</button>
        <code>{path}</code>
        {value && <span class="hint">{value.size} bytes</span>}
      </div>
      {error && <p class="empty">{error}</p>}
      {value && (value.text !== undefined
        ? <pre class="file" data-file={path}>{value.text}</pre>
        : <p class="hint">A binary file, or too large to show here.</p>)}
    </article>
  );
}

function Compare(props: { status: RepoStatus; from: string; to: string }) {
  const [mode, setMode] = useState<DiffMode>("unified");
  const { diffs, error } = useDiff(props.status, props.from, props.to);
  return (
    <section aria-labelledby="compare-title" class="stack">
      <h2 id="compare-title">
        <code>{props.from.slice(0, 12)}</code> → <code>{props.to.slice(0, 12)}</code>
      </h2>
      <DiffModeSwitch mode={mode} set={setMode} />
      {error
        ? <p class="empty">{error}</p>
        : diffs
        ? <DiffView diffs={diffs} mode={mode} />
        : <p class="hint">Reading…</p>}
    </section>
  );
}

function CompareForm(props: { from?: string; to?: string; go(from: string, to: string): void }) {
  const [from, setFrom] = useState(props.from ?? "");
  const [to, setTo] = useState(props.to ?? "");
  return (
    <form
      class="row wrap"
      aria-labelledby="compare-form-title"
      onSubmit={(e) => {
        e.preventDefault();
        if (from.trim() && to.trim()) props.go(from.trim(), to.trim());
      }}
    >
      <span id="compare-form-title">Compare</span>
      <label>
        from{" "}
        <input
          id="compare-from"
          value={from}
          onInput={(e) => setFrom(e.currentTarget.value)}
          placeholder="commit or ref"
        />
      </label>
      <label>
        to{" "}
        <input id="compare-to" value={to} onInput={(e) => setTo(e.currentTarget.value)} placeholder="commit or ref" />
      </label>
      <button type="submit">Show the diff</button>
    </form>
  );
}
