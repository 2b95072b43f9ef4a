/**
 * Line diffs, file by file, unified or side by side, as code review tools
 * show them. On a patch's page, comments anchored to a file and line of
 * the revision shown appear under that line, and each line of the new side
 * has a button to write one there (signed by the caller, see patch-page).
 */
import { Fragment } from "preact";
import { useState } from "preact/hooks";
import { type DiffLine, type FileDiff, splitRows } from "../../model/diff-lines.ts";

export type DiffMode = "unified" | "split";

export interface LineComment {
  id: string;
  author: string;
  body: string;
}

export interface Commenting {
  /** Comments by `path:line` (new side). */
  at: Map<string, LineComment[]>;
  /** Sign and send one; resolves true once it is taken. */
  add(path: string, line: number, body: string): Promise<boolean>;
  /** Why this browser cannot comment, if it cannot (the buttons are then not offered). */
  blocked?: string;
}

export function DiffModeSwitch(props: { mode: DiffMode; set(mode: DiffMode): void }) {
  return (
    <div class="row" role="radiogroup" aria-label="Diff layout">
      {(["unified", "split"] as const).map((m) => (
        <label key={m}>
          <input
            type="radio"
            name="diff-mode"
            value={m}
            checked={props.mode === m}
            onChange={() => props.set(m)}
          />{" "}
          {m === "unified" ? "Unified" : "Side by side"}
        </label>
      ))}
    </div>
  );
}

export function DiffView(props: { diffs: FileDiff[]; mode: DiffMode; commenting?: Commenting }) {
  if (props.diffs.length === 0) return <p class="empty">No file differs.</p>;
  return (
    <div class="stack diffs">
      <p class="hint">{props.diffs.length} file{props.diffs.length === 1 ? "" : "s"} changed</p>
      {props.diffs.map((d) => <FileDiffView key={d.path} diff={d} mode={props.mode} commenting={props.commenting} />)}
    </div>
  );
}

function FileDiffView(props: { diff: FileDiff; mode: DiffMode; commenting?: Commenting }) {
  const { diff, mode, commenting } = props;
  const [composing, setComposing] = useState<number | undefined>(undefined);
  const cols = mode === "split" ? 4 : 3;
  const lineExtras = (line: number | undefined) => {
    if (line === undefined || !commenting) return null;
    const here = commenting.at.get(`${diff.path}:${line}`) ?? [];
    return (
      <>
        {here.map((c) => (
          <tr key={c.id} class="diff-comment" data-comment-at={`${diff.path}:${line}`}>
            <td colSpan={cols}>
              <strong>{c.author}</strong>: {c.body}
            </td>
          </tr>
        ))}
        {composing === line && (
          <tr class="diff-compose">
            <td colSpan={cols}>
              <CommentForm
                label={`Comment on ${diff.path} line ${line}`}
                cancel={() => setComposing(undefined)}
                send={async (body) => {
                  if (await commenting.add(diff.path, line, body)) setComposing(undefined);
                }}
              />
            </td>
          </tr>
        )}
      </>
    );
  };
  const commentButton = (line: number | undefined) =>
    line !== undefined && commenting && !commenting.blocked
      ? (
        <button
          type="button"
          class="line-comment"
          aria-label={`Comment on ${diff.path} line ${line}`}
          data-comment-line={`${diff.path}:${line}`}
          onClick={() => setComposing(line)}
        >
          +
        </button>
      )
      : null;
  return (
    <section class="file-diff" data-diff-file={diff.path} aria-label={`${diff.path} (${diff.status})`}>
      <h3 class="row spread">
        <code>{diff.path}</code> <span class={`tag change-${diff.status}`}>{diff.status}</span>
      </h3>
      {diff.note ? <p class="hint">{diff.note}</p> : (
        <div class="table-wrap">
          <table class={`diff diff-${mode}`}>
            <tbody>
              {diff.hunks.map((h) => (
                <Fragment key={h.header}>
                  <tr class="hunk">
                    <td colSpan={cols}>
                      <code>{h.header}</code>
                    </td>
                  </tr>
                  {mode === "unified"
                    ? h.lines.map((l, i) => (
                      <Fragment key={i}>
                        <tr class={`d-${l.kind}`} data-line={l.new}>
                          <td class="ln">{l.old ?? ""}</td>
                          <td class="ln">{l.new ?? ""} {commentButton(l.new)}</td>
                          <td class="code">
                            <LineText line={l} />
                          </td>
                        </tr>
                        {lineExtras(l.new)}
                      </Fragment>
                    ))
                    : splitRows(h).map((r, i) => (
                      <Fragment key={i}>
                        <tr data-line={r.right?.new}>
                          <td class="ln">{r.left?.old ?? ""}</td>
                          <td class={`code d-${r.left?.kind ?? "none"}`}>{r.left && <LineText line={r.left} />}</td>
                          <td class="ln">{r.right?.new ?? ""} {commentButton(r.right?.new)}</td>
                          <td class={`code d-${r.right?.kind ?? "none"}`}>
                            {r.right && <LineText line={r.right} />}
                          </td>
                        </tr>
                        {lineExtras(r.right?.new)}
                      </Fragment>
                    ))}
                </Fragment>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

const MARK = { add: "+", del: "-", context: " " } as const;

function LineText(props: { line: DiffLine }) {
  return <pre>{MARK[props.line.kind]}{props.line.text}</pre>;
}

function CommentForm(props: { label: string; send(body: string): Promise<void>; cancel(): void }) {
  const [body, setBody] = useState("");
  const [busy, setBusy] = useState(false);
  return (
    <form
      class="stack"
      onSubmit={(e) => {
        e.preventDefault();
        if (!body.trim() || busy) return;
        setBusy(true);
        void props.send(body.trim()).finally(() => setBusy(false));
      }}
    >
      <label>
        {props.label}
        <textarea
          name="comment"
          rows={3}
          maxLength={16_000}
          value={body}
          onInput={(e) => setBody(e.currentTarget.value)}
        />
      </label>
      <div class="row">
        <button type="submit" disabled={busy || !body.trim()}>Add comment</button>
        <button type="button" class="link" onClick={props.cancel}>Cancel</button>
      </div>
    </form>
  );
}
