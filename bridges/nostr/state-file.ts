/**
 * Reading one of the Nostr bridge's JSON state files (pairings, notification
 * settings, the DM model ledger): absent is a fresh start, a file over its
 * bound is refused from its size before it is read, and one that does not
 * parse or is not the expected shape stops the bridge with what to do.
 */
import { open } from "node:fs/promises";
import { WeftError } from "#protocol";

export interface StateFileShape<T> {
  /** The most bytes the file may hold. */
  maxBytes: number;
  /** What the file is, for errors ("the DM model ledger"). */
  what: string;
  /** Whether a parsed value is version 1 of the file. */
  valid(parsed: unknown): parsed is T;
  /** What moving the file away does ("start over (everyone pairs again)"). */
  startOver: string;
}

/** The file's contents, or undefined when there is none. */
export async function readStateFile<T>(path: string, shape: StateFileShape<T>): Promise<T | undefined> {
  let file;
  try {
    file = await open(path, "r");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw unreadable(path, (e as Error).message, shape);
  }
  try {
    if ((await file.stat()).size > shape.maxBytes) throw new Error(`larger than ${shape.what} can be`);
    const parsed: unknown = JSON.parse(await file.readFile("utf8"));
    if (!shape.valid(parsed)) throw new Error(`not version 1 of ${shape.what}`);
    return parsed;
  } catch (e) {
    throw unreadable(path, (e as Error).message, shape);
  } finally {
    await file.close();
  }
}

function unreadable(path: string, why: string, shape: StateFileShape<unknown>): WeftError {
  return new WeftError("NostrStateUnreadable", "nostr/pairing", `${path}: ${why}; move it away to ${shape.startOver}`);
}
