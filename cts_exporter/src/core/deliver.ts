import { AppError, ErrorCode, parseRetryAfter, retry } from "@cts/shared";
import { classifyStatus } from "./delivery-policy.js";
import type { AttemptResult, Clock, EventTransport, ExporterMetrics, TraceEvent } from "./ports.js";

/**
 * Backoff of sink delivery: the same engine and policy shape as the CTS calls, so both honour
 * Retry-After as a floor and both cap it (`maxRetryAfterMs`).
 */
export interface RetryPolicy {
  /** Attempts per request, the first included. */
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  /** Cap of the jittered delay. */
  readonly maxDelayMs: number;
  /** A sink's Retry-After longer than this is cut to it. */
  readonly maxRetryAfterMs: number;
  /** Injectable for tests; Math.random by default. */
  readonly random?: () => number;
}

/** What one attempt settled: the sink's final answer to the request. */
type Verdict =
  | { readonly outcome: "delivered"; readonly status: number }
  | {
      /** 400: the event is bad. */
      readonly outcome: "rejected";
      readonly status: number;
      readonly answer: string;
    }
  | {
      /** Any other final status: the sink or its configuration is wrong. */
      readonly outcome: "refused";
      readonly status: number;
      readonly answer: string;
    };

type DeliveryReport =
  | (Verdict & { readonly attempts: number })
  | { readonly outcome: "failed"; readonly attempts: number; readonly reason: string };

interface DeliverDeps {
  readonly transport: EventTransport;
  readonly clock: Clock;
  readonly metrics: ExporterMetrics;
  readonly retry: RetryPolicy;
}

const ANSWER_LIMIT = 500;

/** A retryable answer, as an error the shared retry engine understands. */
function retryable(result: AttemptResult, now: number): AppError {
  if (result.kind === "network-error") {
    return new AppError(ErrorCode.SINK_UNAVAILABLE, result.message, {
      retryable: true,
      details: { reason: "network" },
    });
  }
  const retryAfterMs = parseRetryAfter(result.retryAfter, now);
  return new AppError(ErrorCode.SINK_UNAVAILABLE, `HTTP ${result.status}`, {
    retryable: true,
    details: {
      reason: String(result.status),
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    },
  });
}

/** One attempt's verdict: a final answer, or a retryable failure thrown for the retry engine. */
async function attemptOnce(
  events: readonly TraceEvent[],
  deps: DeliverDeps,
  signal: AbortSignal,
): Promise<Verdict> {
  const result = await deps.transport.attempt(events, signal);
  if (result.kind === "network-error") throw retryable(result, deps.clock.now());
  const outcome = classifyStatus(result.status);
  if (outcome === "delivered") return { outcome, status: result.status };
  if (outcome === "retry") throw retryable(result, deps.clock.now());
  const answer = result.body.slice(0, ANSWER_LIMIT);
  return { outcome, status: result.status, answer };
}

/**
 * Hands one request's events to the sink, retrying what the Knative table says is retryable
 * with backoff, until it is acknowledged, rejected, refused, out of attempts or aborted.
 * A transport that throws (an event it cannot encode) is a bug, not a sink answer: the error
 * propagates, so the cycle fails instead of counting the events as handled.
 *
 * The first attempt runs on its own and the retry engine is entered only after it failed: at
 * ten thousand requests a second, the engine's per-call setup was a measurable share of the
 * exporter's CPU (bench/README.md), and almost every request succeeds the first time.
 */
export async function deliver(
  events: readonly TraceEvent[],
  deps: DeliverDeps,
  signal: AbortSignal,
): Promise<DeliveryReport> {
  let attempts = 0;
  try {
    signal.throwIfAborted();
    attempts = 1;
    return { ...(await attemptOnce(events, deps, signal)), attempts };
  } catch (firstError) {
    try {
      if (signal.aborted) throw signal.reason;
      if (deps.retry.maxAttempts <= 1 || !isRetryable(firstError)) throw firstError;
      const verdict = await retry(
        (attempt) => {
          attempts = attempt;
          return attemptOnce(events, deps, signal);
        },
        {
          maxAttempts: deps.retry.maxAttempts,
          baseDelayMs: deps.retry.baseDelayMs,
          maxDelayMs: deps.retry.maxDelayMs,
          maxRetryAfterMs: deps.retry.maxRetryAfterMs,
          ...(deps.retry.random === undefined ? {} : { random: deps.retry.random }),
          signal,
          sleep: (ms, sleepSignal) => deps.clock.sleep(ms, sleepSignal),
          onRetry: (event) => {
            const reason =
              event.error instanceof AppError ? event.error.details["reason"] : undefined;
            deps.metrics.retried(typeof reason === "string" ? reason : "network");
          },
          afterFirstFailure: { error: firstError },
        },
      );
      return { ...verdict, attempts };
    } catch (error) {
      if (signal.aborted) return { outcome: "failed", attempts, reason: "shutting down" };
      if (error instanceof AppError && error.code === ErrorCode.SINK_UNAVAILABLE)
        return { outcome: "failed", attempts, reason: error.message };
      throw error;
    }
  }
}

const isRetryable = (error: unknown): boolean => error instanceof AppError && error.retryable;
