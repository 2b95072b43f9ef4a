/**
 * What a sync session lends the parts that handle its frame families
 * (handshake, gate, gossip, blobs, logs): its options, the session itself
 * (for callbacks and what it exposes: spaces, ready, remote), and how to
 * send a frame, refuse one, queue work behind the frames, and close.
 */
import type { Frame } from "./frames.ts";
import type { SessionOptions, SyncSession } from "./session.ts";

export interface SessionContext {
  readonly options: SessionOptions;
  readonly session: SyncSession;
  /** Whether the session has closed. */
  closed(): boolean;
  send(frame: Frame): void;
  /** Report a refused frame (counted in diagnostics), naming the space it was for, if any. */
  refuse(what: string, code: string, reason: string, space?: string): void;
  /** Run `work` after the frames received so far; the session closes if it fails. */
  enqueue(work: () => Promise<void>): void;
  close(): void;
}
