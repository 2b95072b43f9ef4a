/**
 * Every error code has an HTTP status and a CLI exit code, and the ones
 * scripts and clients rely on keep theirs. The codes are enumerated from
 * protocol/error-codes.ts, so a new code is checked the day it is added.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ERROR_CODES, type ErrorCode, errorCodeOf, isErrorCode, WeftError } from "../../protocol/index.ts";
import { HttpError, statusOf } from "../../peer/api/errors.ts";
import { ApiError } from "../../peer/api/client.ts";
import { EXIT, exitCodeFor } from "../../peer/cli/exit-codes.ts";

const codes = Object.keys(ERROR_CODES) as ErrorCode[];
const err = (code: ErrorCode) => new WeftError("Test", code, "m");

test("every code has an HTTP error status and a non-zero exit code", () => {
  assert.ok(codes.length > 80, `only ${codes.length} codes listed`);
  for (const code of codes) {
    const status = statusOf(err(code));
    assert.ok(status >= 400 && status <= 599, `${code} has status ${status}`);
    assert.ok(Object.values(EXIT).includes(exitCodeFor(err(code)) as never), `${code}`);
    assert.notEqual(exitCodeFor(err(code)), EXIT.ok, code);
  }
});

test("the statuses and exit codes clients and scripts rely on", () => {
  const status: Array<[ErrorCode, number]> = [
    ["input/did", 400],
    ["invite/invalid", 400],
    ["cbor/malformed", 400],
    ["ucan/expired", 401],
    ["did/invalid", 401],
    ["auth/replayed", 401],
    ["ucan/revoked", 403],
    ["cap/missing", 403],
    ["sync/refused", 403],
    ["not-found", 404],
    ["task/conflict", 409],
    ["keystore/exists", 409],
    ["artifact/invalid-cid", 400],
    ["artifact/tampered", 422],
    ["artifact/store-unreachable", 502],
    ["storage/io", 500],
  ];
  for (const [code, want] of status) assert.equal(statusOf(err(code)), want, code);
  assert.equal(statusOf(new HttpError(413, "input/too-large", "m")), 413);
  assert.equal(statusOf(new Error("a bug")), 500);

  const exits: Array<[ErrorCode, number]> = [
    ["cli/usage", EXIT.usage],
    ["input/task", EXIT.usage],
    ["config/invalid", EXIT.usage],
    ["cli/unreachable", EXIT.unavailable],
    ["cli/no-credentials", EXIT.unavailable],
    ["not-found", EXIT.notFound],
    ["task/conflict", EXIT.conflict],
    ["cap/missing", EXIT.denied],
    ["storage/io", EXIT.error],
  ];
  for (const [code, want] of exits) assert.equal(exitCodeFor(err(code)), want, code);
  // A peer's error whose code this build does not know: the status decides.
  assert.equal(exitCodeFor(new ApiError(404, "http", "m")), EXIT.notFound);
  assert.equal(exitCodeFor(new ApiError(403, "http", "m")), EXIT.denied);
  assert.equal(exitCodeFor(new ApiError(500, "http", "m")), EXIT.error);
  assert.equal(exitCodeFor(new Error("a bug")), EXIT.error);
});

test("a code read from the network is taken only if it is a known one", () => {
  assert.equal(errorCodeOf("task/conflict", "http"), "task/conflict");
  assert.equal(errorCodeOf("made/up", "http"), "http");
  assert.equal(errorCodeOf({ toString: () => "not-found" }, "http"), "http");
  assert.equal(errorCodeOf("toString", "http"), "http", "inherited properties are not codes");
  assert.equal(isErrorCode("__proto__"), false);
});
