/**
 * Editor sessions (peer/api/editor-sessions.ts): a session opens only by its
 * own ticket, once, within its minute; the secret it gives is the only thing
 * that passes afterwards, until the session expires. The end-to-end path
 * (a real code-server pod, both origins, Chromium) is
 * tests/kubernetes/editor.kube-test.ts.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { EditorSessions, SESSION_MS, TICKET_MS } from "../../peer/api/editor-sessions.ts";

const SPACE = "did:key:z6MkspaceSpaceSpaceSpaceSpaceSpaceSpaceSpace";
const CALLER = "did:key:z6MkcallerCallerCallerCallerCallerCallerCa";

describe("editor sessions: single-use tickets, then a secret", () => {
  it("a ticket opens its session once, and only its own", () => {
    const sessions = new EditorSessions();
    const a = sessions.open(SPACE, "t1", CALLER, 1_000);
    const b = sessions.open(SPACE, "t2", CALLER, 1_000);
    assert.equal(sessions.redeem(a.id, b.ticket, 1_001), undefined, "another session's ticket");
    const secret = sessions.redeem(a.id, a.ticket, 1_002);
    assert.ok(secret);
    assert.equal(sessions.redeem(a.id, a.ticket, 1_003), undefined, "the same ticket twice");
    assert.equal(sessions.check(a.id, secret, 1_004)?.task, "t1");
    assert.equal(sessions.check(b.id, secret, 1_004), undefined, "a secret opens only its own session");
  });

  it("before its ticket is exchanged a session admits nothing, not even its ticket as a secret", () => {
    const sessions = new EditorSessions();
    const s = sessions.open(SPACE, "t1", CALLER, 1_000);
    assert.equal(sessions.check(s.id, s.ticket, 1_001), undefined);
    assert.equal(sessions.check(s.id, undefined, 1_001), undefined);
  });

  it("a ticket is good for a minute; a session for its hour", () => {
    const sessions = new EditorSessions();
    const late = sessions.open(SPACE, "t1", CALLER, 1_000);
    assert.equal(sessions.redeem(late.id, late.ticket, 1_000 + TICKET_MS), undefined);
    const s = sessions.open(SPACE, "t1", CALLER, 1_000);
    const secret = sessions.redeem(s.id, s.ticket, 1_000 + TICKET_MS - 1)!;
    assert.ok(sessions.check(s.id, secret, 1_000 + SESSION_MS - 1));
    assert.equal(sessions.check(s.id, secret, 1_000 + SESSION_MS), undefined);
  });

  it("a dropped session admits no one", () => {
    const sessions = new EditorSessions();
    const s = sessions.open(SPACE, "t1", CALLER, 1_000);
    const secret = sessions.redeem(s.id, s.ticket, 1_001)!;
    sessions.drop(s.id);
    assert.equal(sessions.check(s.id, secret, 1_002), undefined);
  });
});
