import { setTimeout as delay } from "node:timers/promises";
import { isAppError } from "./errors.js";

/**
 * Exponential backoff with full jitter ("AWS architecture blog" style): the n-th retry waits a
 * uniformly random time in [0, min(cap, base * 2^(n-1))], so a crowd of clients spreads out
 * instead of hammering a recovering service in lock-step. A server's `Retry-After` is a floor.
 */
interface BackoffPolicy {
  /** Total tries including the first; 1 disables retrying. */
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  /** Cap of the jittered delay. */
  readonly maxDelayMs: number;
  /** A `Retry-After` longer than this is cut to it, so a confused server cannot park us for hours. */
  readonly maxRetryAfterMs: number;
}

const DEFAULT_BACKOFF: BackoffPolicy = {
  maxAttempts: 6,
  baseDelayMs: 250,
  maxDelayMs: 20_000,
  maxRetryAfterMs: 120_000,
};

/** Passed to `onRetry` before each wait. */
export interface RetryEvent {
  /** The attempt that just failed, 1-based. */
  readonly attempt: number;
  readonly delayMs: number;
  readonly error: unknown;
}

export interface RetryOptions extends Partial<BackoffPolicy> {
  /** Aborting stops the wait and rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** Injectable for tests; defaults to a timer that honours `signal`. */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Injectable for tests; defaults to Math.random. */
  readonly random?: () => number;
  /** Whether a failure may be retried; defaults to {@link isRetryable}. */
  readonly shouldRetry?: (error: unknown, attempt: number) => boolean;
  /** A server-requested delay carried by the error; defaults to {@link retryAfterOf}. */
  readonly retryAfterMs?: (error: unknown) => number | undefined;
  readonly onRetry?: (event: RetryEvent) => void;
  /**
   * The caller made the first attempt itself and it failed with `error`: the engine starts by
   * deciding on that failure (wait, or give up) and calls `operation` from attempt 2. For hot
   * paths where almost every first attempt succeeds and the engine's setup would cost more
   * than the work.
   */
  readonly afterFirstFailure?: { readonly error: unknown };
}

/** AppErrors flagged `retryable`; anything else is a bug or a final answer. */
function isRetryable(error: unknown): boolean {
  return isAppError(error) && error.retryable;
}

/** The `retryAfterMs` an AppError carries in its details (set from a `Retry-After` header). */
function retryAfterOf(error: unknown): number | undefined {
  if (!isAppError(error)) return undefined;
  const value = error.details["retryAfterMs"];
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : undefined;
}

/** The full-jitter delay before retry number `retry` (1 = the first retry). */
export function backoffDelay(
  retry: number,
  policy: Pick<BackoffPolicy, "baseDelayMs" | "maxDelayMs">,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.floor(random() * ceiling);
}

/**
 * Parses a `Retry-After` header: delay-seconds or an HTTP-date (RFC 9110 10.2.3). Returns
 * milliseconds from `now`, never negative; `undefined` when absent or unreadable.
 */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // HTTP-dates always name the weekday; this keeps Date.parse from reading "-5" as a year.
  const date = /^[A-Za-z]{3}/.test(text) ? Date.parse(text) : Number.NaN;
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Runs `operation` until it succeeds, fails in a way not worth retrying, or attempts run out. */
export async function retry<T>(
  operation: (attempt: number) => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const policy = { ...DEFAULT_BACKOFF, ...definedOnly(options) };
  const sleep = options.sleep ?? ((ms, signal) => delay(ms, undefined, { signal }));
  const shouldRetry = options.shouldRetry ?? isRetryable;
  const requestedDelay = options.retryAfterMs ?? retryAfterOf;
  let failure = options.afterFirstFailure;
  for (let attempt = 1; ; attempt++) {
    if (failure === undefined) {
      options.signal?.throwIfAborted();
      try {
        return await operation(attempt);
      } catch (error) {
        failure = { error };
      }
    }
    const { error } = failure;
    failure = undefined;
    if (options.signal?.aborted === true) throw options.signal.reason;
    if (attempt >= policy.maxAttempts || !shouldRetry(error, attempt)) throw error;
    const jittered = backoffDelay(attempt, policy, options.random);
    const requested = requestedDelay(error);
    const delayMs =
      requested === undefined
        ? jittered
        : Math.max(Math.min(requested, policy.maxRetryAfterMs), jittered);
    options.onRetry?.({ attempt, delayMs, error });
    try {
      await sleep(delayMs, options.signal);
    } catch (sleepError) {
      // The signal's own reason, not the timer's generic AbortError, tells the caller why.
      throw wasAborted(options.signal) ? options.signal.reason : sleepError;
    }
  }
}

function wasAborted(signal: AbortSignal | undefined): signal is AbortSignal {
  return signal?.aborted === true;
}

function definedOnly(options: Partial<BackoffPolicy>): Partial<BackoffPolicy> {
  const policy: Partial<Record<keyof BackoffPolicy, number>> = {};
  for (const key of ["maxAttempts", "baseDelayMs", "maxDelayMs", "maxRetryAfterMs"] as const) {
    const value = options[key];
    if (value !== undefined) policy[key] = value;
  }
  return policy;
}
