import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { AppError, ErrorCode } from "./errors.js";
import { backoffDelay, parseRetryAfter, retry, type RetryEvent } from "./retry.js";

const transient = (details: Record<string, unknown> = {}) =>
  new AppError(ErrorCode.CTS_API_UNAVAILABLE, "CTS answered 503", { retryable: true, details });

/** A scripted operation: each entry is thrown in turn, then `value` is returned. */
function script<T>(failures: Error[], value: T) {
  const calls: number[] = [];
  const operation = (attempt: number) => {
    calls.push(attempt);
    const failure = failures.shift();
    return failure === undefined ? Promise.resolve(value) : Promise.reject(failure);
  };
  return { operation, calls };
}

function recorder() {
  const sleeps: number[] = [];
  const events: RetryEvent[] = [];
  const sleep = (ms: number) => {
    sleeps.push(ms);
    return Promise.resolve();
  };
  const onRetry = (event: RetryEvent) => events.push(event);
  /** The recording hooks, to spread into retry's options. */
  return { sleeps, events, sleep, onRetry, hooks: { sleep, onRetry } };
}

describe("retry", () => {
  test("retries retryable failures with exponential full-jitter delays under the cap", async () => {
    const { operation, calls } = script([transient(), transient(), transient(), transient()], "ok");
    const rec = recorder();
    const result = await retry(operation, {
      baseDelayMs: 100,
      maxDelayMs: 500,
      random: () => 0.999999,
      ...rec.hooks,
    });
    assert.equal(result, "ok");
    assert.deepEqual(calls, [1, 2, 3, 4, 5]);
    assert.deepEqual(rec.sleeps, [99, 199, 399, 499], "100, 200, 400, then capped at 500");
    assert.deepEqual(
      rec.events.map((event) => event.attempt),
      [1, 2, 3, 4],
    );
  });

  test("afterFirstFailure: the caller's failed first attempt counts; the engine goes on from attempt 2", async () => {
    const { operation, calls } = script([transient()], "ok");
    const rec = recorder();
    const result = await retry(operation, {
      baseDelayMs: 100,
      maxDelayMs: 100,
      random: () => 0.5,
      ...rec.hooks,
      afterFirstFailure: { error: transient() },
    });
    assert.equal(result, "ok");
    assert.deepEqual(calls, [2, 3], "attempt 1 was the caller's");
    assert.deepEqual(
      rec.events.map((event) => event.attempt),
      [1, 2],
    );
    assert.deepEqual(rec.sleeps, [50, 50]);

    const final = new AppError(ErrorCode.CONFIG_INVALID, "final answer");
    const untouched = script([], "never");
    await assert.rejects(
      retry(untouched.operation, { afterFirstFailure: { error: final }, sleep: rec.sleep }),
      /final answer/,
    );
    assert.deepEqual(untouched.calls, [], "a final first failure is rethrown without a retry");
    await assert.rejects(
      retry(untouched.operation, { maxAttempts: 1, afterFirstFailure: { error: transient() } }),
      /CTS answered 503/,
    );
    assert.deepEqual(untouched.calls, [], "no attempts left after the caller's");
  });

  test("full jitter spans zero to the ceiling", () => {
    const policy = { baseDelayMs: 1000, maxDelayMs: 8000 };
    assert.equal(
      backoffDelay(3, policy, () => 0),
      0,
    );
    assert.equal(
      backoffDelay(3, policy, () => 0.5),
      2000,
    );
    assert.equal(
      backoffDelay(10, policy, () => 0.5),
      4000,
    );
  });

  test("gives up after maxAttempts and rethrows the last failure", async () => {
    const last = transient({ attempt: 3 });
    const { operation, calls } = script([transient(), transient(), last], "never");
    const rec = recorder();
    await assert.rejects(retry(operation, { maxAttempts: 3, sleep: rec.sleep }), (error) => {
      assert.equal(error, last);
      return true;
    });
    assert.equal(calls.length, 3);
    assert.equal(rec.sleeps.length, 2);
  });

  test("does not retry a final answer or a non-AppError", async () => {
    for (const failure of [
      new AppError(ErrorCode.CTS_API_REJECTED, "CTS answered 400"),
      new TypeError("bug"),
    ]) {
      const { operation, calls } = script([failure], "never");
      await assert.rejects(retry(operation, { sleep: recorder().sleep }), failure);
      assert.equal(calls.length, 1);
    }
  });

  test("waits at least the Retry-After the error carries, cut at maxRetryAfterMs", async () => {
    const { operation } = script(
      [transient({ retryAfterMs: 3000 }), transient({ retryAfterMs: 999_999 })],
      1,
    );
    const rec = recorder();
    await retry(operation, {
      random: () => 0,
      maxRetryAfterMs: 60_000,
      sleep: rec.sleep,
    });
    assert.deepEqual(rec.sleeps, [3000, 60_000]);
  });

  test("a custom classifier decides what is retried", async () => {
    const { operation, calls } = script([new Error("flaky"), new Error("flaky")], "ok");
    const result = await retry(operation, {
      shouldRetry: (error) => error instanceof Error && error.message === "flaky",
      sleep: recorder().sleep,
    });
    assert.equal(result, "ok");
    assert.equal(calls.length, 3);
  });

  test("an abort during the wait rejects with the signal's reason and stops", async () => {
    const controller = new AbortController();
    const { operation, calls } = script([transient(), transient()], "never");
    const reason = new Error("shutting down");
    const pending = retry(operation, {
      signal: controller.signal,
      baseDelayMs: 60_000,
      random: () => 1,
    });
    setImmediate(() => {
      controller.abort(reason);
    });
    await assert.rejects(pending, (error) => error === reason);
    assert.equal(calls.length, 1);
  });
});

describe("parseRetryAfter", () => {
  const now = Date.UTC(2025, 0, 1, 12, 0, 0);
  test("reads delay-seconds and HTTP-dates", () => {
    assert.equal(parseRetryAfter("0", now), 0);
    assert.equal(parseRetryAfter(" 7 ", now), 7000);
    assert.equal(parseRetryAfter("Wed, 01 Jan 2025 12:00:30 GMT", now), 30_000);
    assert.equal(parseRetryAfter("Wed, 01 Jan 2025 11:00:00 GMT", now), 0, "a past date means now");
  });
  test("ignores absent or unreadable values", () => {
    for (const value of [undefined, null, "", "soon", "-5"]) {
      assert.equal(parseRetryAfter(value, now), undefined, String(value));
    }
  });
});
