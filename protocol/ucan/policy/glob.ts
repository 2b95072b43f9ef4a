/**
 * The `like` operator's glob: `*` matches any run of characters (including
 * none); `\*` is a literal star and `\x` a literal x. Nothing else is
 * special, whitespace is significant, and the match is anchored at both ends.
 */

export class GlobSyntaxError extends Error {}

/** A compiled pattern: the literal pieces between wildcards. */
export interface Glob {
  readonly source: string;
  readonly parts: readonly string[];
}

export function compileGlob(source: string): Glob {
  const parts: string[] = [];
  let current = "";
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === "\\") {
      if (i + 1 >= source.length) throw new GlobSyntaxError(`pattern ${JSON.stringify(source)} ends with a lone "\\"`);
      current += source[++i];
    } else if (c === "*") {
      parts.push(current);
      current = "";
    } else {
      current += c;
    }
  }
  parts.push(current);
  return { source, parts };
}

/** Anchored match; leftmost placement of each middle piece is optimal for `*`-only globs. */
export function matchGlob(glob: Glob, text: string): boolean {
  const { parts } = glob;
  if (parts.length === 1) return text === parts[0];
  const first = parts[0];
  const last = parts[parts.length - 1];
  if (text.length < first.length + last.length) return false;
  if (!text.startsWith(first) || !text.endsWith(last)) return false;
  let pos = first.length;
  const limit = text.length - last.length;
  for (let i = 1; i < parts.length - 1; i++) {
    const at = text.indexOf(parts[i], pos);
    if (at < 0 || at + parts[i].length > limit) return false;
    pos = at + parts[i].length;
  }
  return true;
}
