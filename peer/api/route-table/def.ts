/**
 * What a route is (method, path, what authorizes a call, the checks on its
 * input) and the two shorthands every route table uses for its auth.
 */
import type { OpKind } from "#protocol/tasks";
import type { Check } from "#protocol/schema";

export type Auth =
  | { kind: "none" }
  | { kind: "query"; scope: "node" | "space"; command: string }
  | { kind: "op"; op: OpKind }
  /** The bearer is a signed operation of another family (a repository push), checked like `op`. */
  | { kind: "signed"; command: string };

export interface RouteDef {
  method: "GET" | "POST" | "PATCH" | "DELETE";
  path: string;
  summary: string;
  auth: Auth;
  query?: Check<unknown>;
  body?: Check<unknown>;
  /** A WebSocket endpoint. */
  websocket?: boolean;
}

export const q = (command: string, scope: "node" | "space" = "space"): Auth => ({ kind: "query", scope, command });
export const op = (kind: OpKind): Auth => ({ kind: "op", op: kind });
