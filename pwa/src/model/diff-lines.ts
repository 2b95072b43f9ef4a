/**
 * A diff's shape, apart from the git code that computes it (model/git-read.ts,
 * loaded only when code is read): changed files, hunks of lines with old
 * and new line numbers, and side-by-side rows.
 */
export type ChangeStatus = "added" | "deleted" | "modified";

export interface FileChange {
  path: string;
  status: ChangeStatus;
  before?: string;
  after?: string;
}

export interface DiffLine {
  kind: "context" | "add" | "del";
  /** Line number on the old side (context, del) and on the new side (context, add). */
  old?: number;
  new?: number;
  text: string;
}

export interface Hunk {
  header: string;
  lines: DiffLine[];
}

export interface FileDiff extends FileChange {
  /** Why there are no hunks to show (binary, too large), if so. */
  note?: string;
  hunks: Hunk[];
}

/** A hunk as side-by-side rows: deletions beside the additions that replace them, context on both sides. */
export function splitRows(hunk: Hunk): { left?: DiffLine; right?: DiffLine }[] {
  const rows: { left?: DiffLine; right?: DiffLine }[] = [];
  let dels: DiffLine[] = [];
  let adds: DiffLine[] = [];
  const flush = () => {
    for (let i = 0; i < Math.max(dels.length, adds.length); i++) {
      rows.push({ ...(dels[i] ? { left: dels[i] } : {}), ...(adds[i] ? { right: adds[i] } : {}) });
    }
    dels = [];
    adds = [];
  };
  for (const l of hunk.lines) {
    if (l.kind === "del") dels.push(l);
    else if (l.kind === "add") adds.push(l);
    else {
      flush();
      rows.push({ left: l, right: l });
    }
  }
  flush();
  return rows;
}
