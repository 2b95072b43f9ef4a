/**
 * A git commit object's bytes, written and read exactly as heartwood's
 * `git_ext::commit::Commit` does: `tree`, `parent`s, `author`,
 * `committer`, extra headers (a multi-line value continues on lines
 * starting with a space: how `gpgsig` carries an SSHSIG), a blank line,
 * the trimmed message and a newline, then, when there are trailers, a
 * blank line and one `Token: value` line each. `git commit-tree` cannot
 * add a signature computed here, so the bridge hashes these bytes with
 * `git hash-object -t commit -w` instead.
 */
import { RadicleMalformed } from "./errors.ts";
import { checkOid } from "./radicle-ids.ts";

export interface Person {
  name: string;
  email: string;
  /** Seconds since the epoch. */
  time: number;
  /** Minutes east of UTC. */
  offset: number;
}

export interface Trailer {
  token: string;
  value: string;
}

export interface CommitObject {
  tree: string;
  parents: string[];
  author: Person;
  committer: Person;
  headers: [string, string][];
  message: string;
  trailers: Trailer[];
}

/** The largest commit object the bridge reads (a COB change's commit is a few KB). */
export const MAX_COMMIT_BYTES = 256 * 1024;

function zone(offset: number): string {
  const sign = offset < 0 ? "-" : "+";
  const abs = Math.abs(offset);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}${String(abs % 60).padStart(2, "0")}`;
}

export function formatPerson(p: Person): string {
  if (/[<>\n]/.test(p.name) || /[<>\n]/.test(p.email)) {
    throw new RadicleMalformed("commit author", "may not contain <, > or newlines");
  }
  return `${p.name} <${p.email}> ${p.time} ${zone(p.offset)}`;
}

export function parsePerson(text: string): Person {
  const m = /^(.*) <([^<>]*)> (\d{1,12}) ([+-])(\d\d)(\d\d)$/.exec(text);
  if (!m) {
    throw new RadicleMalformed("commit author", `${JSON.stringify(text.slice(0, 80))} is not "name <email> time zone"`);
  }
  const offset = (Number(m[5]) * 60 + Number(m[6])) * (m[4] === "-" ? -1 : 1);
  return { name: m[1], email: m[2], time: Number(m[3]), offset };
}

export function encodeCommit(c: CommitObject): string {
  let out = `tree ${c.tree}\n`;
  for (const p of c.parents) out += `parent ${p}\n`;
  out += `author ${formatPerson(c.author)}\ncommitter ${formatPerson(c.committer)}\n`;
  for (const [name, value] of c.headers) out += `${name} ${value.trim().replaceAll("\n", "\n ")}\n`;
  out += `\n${c.message.trim()}\n`;
  if (c.trailers.length) out += "\n";
  for (const t of c.trailers) out += `${t.token}: ${t.value}\n`;
  return out;
}

const TRAILER = /^([A-Za-z0-9][A-Za-z0-9-]*): (.*)$/;

/** The trailers of a message: its last paragraph, when every line of it is `Token: value`. */
function splitTrailers(body: string): { message: string; trailers: Trailer[] } {
  const trimmed = body.replace(/\n+$/, "");
  const cut = trimmed.lastIndexOf("\n\n");
  if (cut < 0) return { message: body, trailers: [] };
  const lines = trimmed.slice(cut + 2).split("\n");
  const parsed = lines.map((l) => TRAILER.exec(l));
  if (!parsed.every((m) => m)) return { message: body, trailers: [] };
  return {
    message: trimmed.slice(0, cut + 1),
    trailers: parsed.map((m) => ({ token: m![1], value: m![2] })),
  };
}

export function parseCommit(text: string): CommitObject {
  if (text.length > MAX_COMMIT_BYTES) throw new RadicleMalformed("commit", "is larger than a COB change can be");
  const split = text.indexOf("\n\n");
  if (split < 0) throw new RadicleMalformed("commit", "has no message");
  const lines = text.slice(0, split).split("\n");
  const first = /^tree (.*)$/.exec(lines[0] ?? "");
  if (!first) throw new RadicleMalformed("commit", "does not start with its tree");
  const c: CommitObject = {
    tree: checkOid(first[1], "commit tree"),
    parents: [],
    author: undefined as unknown as Person,
    committer: undefined as unknown as Person,
    headers: [],
    message: "",
    trailers: [],
  };
  for (const line of lines.slice(1)) {
    if (line.startsWith(" ")) {
      const last = c.headers.at(-1);
      if (!last) throw new RadicleMalformed("commit", "has a continuation line with no header");
      last[1] += "\n" + line.slice(1);
      continue;
    }
    const sp = line.indexOf(" ");
    if (sp <= 0) throw new RadicleMalformed("commit", `has a header line without a value`);
    const name = line.slice(0, sp), value = line.slice(sp + 1);
    if (name === "parent") c.parents.push(checkOid(value, "commit parent"));
    else if (name === "author") c.author = parsePerson(value);
    else if (name === "committer") c.committer = parsePerson(value);
    else c.headers.push([name, value]);
  }
  if (!c.author || !c.committer) throw new RadicleMalformed("commit", "has no author or committer");
  const { message, trailers } = splitTrailers(text.slice(split + 2));
  c.message = message;
  c.trailers = trailers;
  return c;
}
