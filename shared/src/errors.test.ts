import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { AppError, ErrorCode, toAppError } from "./errors.js";

describe("AppError", () => {
  test("carries a code, a retryable flag and the cause", () => {
    const cause = new Error("socket hang up");
    const error = new AppError(ErrorCode.SINK_UNAVAILABLE, "sink did not answer", {
      cause,
      retryable: true,
    });
    assert.equal(error.code, "SINK_UNAVAILABLE");
    assert.equal(error.retryable, true);
    assert.equal(error.cause, cause);
    assert.ok(error instanceof Error);
  });

  test("toAppError keeps AppErrors and wraps anything else as INTERNAL", () => {
    const original = new AppError(ErrorCode.CE_INVALID, "bad");
    assert.equal(toAppError(original), original);
    const wrapped = toAppError(new TypeError("boom"));
    assert.equal(wrapped.code, "INTERNAL");
    assert.equal(wrapped.message, "boom");
    assert.equal(toAppError("text", ErrorCode.NEO4J_FATAL).code, "NEO4J_FATAL");
  });
});
